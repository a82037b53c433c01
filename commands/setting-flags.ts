import { Flags, type Interfaces } from '@oclif/core';
import { SETTINGS, type RawSettings, type SettingName } from '../src/config/config.js';

/**
 * One string flag per daemon setting, named and described from SETTINGS. Values stay strings:
 * parsing and validation happen once, in loadConfig, whichever command takes them.
 */
export function settingFlags(
  names: readonly SettingName[] = Object.keys(SETTINGS) as SettingName[],
  options: { readonly fromEnv: boolean } = { fromEnv: true },
): Record<string, Interfaces.OptionFlag<string | undefined> | Interfaces.BooleanFlag<boolean | undefined>> {
  return Object.fromEntries(names.map((name) => {
    const s = SETTINGS[name];
    const env = options.fromEnv ? ` (env ${s.env})` : '';
    if ('boolean' in s) return [s.flag.slice(2), Flags.boolean({ summary: `${s.help}${env}`, allowNo: false }) as Interfaces.BooleanFlag<boolean | undefined>];
    const fallback = 'fallback' in s && s.fallback !== '' ? ` [default: ${s.fallback}]` : '';
    return [s.flag.slice(2), Flags.string({ summary: `${s.help}${fallback}${env}` })];
  }));
}

/** The given settings' values from parsed flags, keyed by setting name (unset ones left out). */
export function rawSettings(flags: Record<string, unknown>, names: readonly SettingName[] = Object.keys(SETTINGS) as SettingName[]): RawSettings {
  const raw: RawSettings = {};
  for (const name of names) {
    const v = flags[SETTINGS[name].flag.slice(2)];
    if (typeof v === 'string') raw[name] = v;
    else if (v === true) raw[name] = 'true'; // a switch given on the command line; absent leaves env and file in charge
  }
  return raw;
}
