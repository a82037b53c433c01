import { SETTINGS } from './config.js';

/** Markers around the generated settings table in README.md. */
export const SETTINGS_TABLE_START = '<!-- settings table: generated from src/config/config.ts (npm run docs) -->';
export const SETTINGS_TABLE_END = '<!-- end of settings table -->';

/** The README's settings table: flag, environment variable, config-file key, default, meaning. */
export function settingsTable(): string {
  const code = (s: string): string => `\`${s}\``;
  const rows = Object.entries(SETTINGS).map(([key, s]) => {
    const fallback = 'shown' in s ? s.shown : 'fallback' in s ? s.fallback : '';
    const shown = fallback.startsWith('--') ? code(fallback) : fallback;
    return `| ${code(s.flag)} | ${code(s.env)} | ${code(key)} | ${shown} | ${s.help.replace(/--[a-z-]+/g, (f) => code(f)).replace(/\|/g, '\\|')} |`;
  });
  return ['| flag | environment | config key | default | |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** `readme` with its settings table replaced by the generated one. */
export function withSettingsTable(readme: string): string {
  const start = readme.indexOf(SETTINGS_TABLE_START);
  const end = readme.indexOf(SETTINGS_TABLE_END);
  if (start < 0 || end < start) throw new Error('README.md has no settings table markers');
  return `${readme.slice(0, start + SETTINGS_TABLE_START.length)}\n${settingsTable()}\n${readme.slice(end)}`;
}
