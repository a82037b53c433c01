import { Box, Text, useApp, useInput, type Key } from 'ink';
import { useEffect, useRef, useState } from 'react';
import { fit, planRows } from './layout.js';
import { PeerTable } from './PeerTable.js';
import { Panel } from './Panel.js';
import { TagTable } from './TagTable.js';
import { TrafficTable } from './TrafficTable.js';
import { useTerminalSize } from './use-terminal-size.js';
import type { DashboardModel } from './view-model.js';
import type { Addr } from '../core/types.js';

export const PANELS = ['peers', 'traffic', 'tags'] as const;
export type PanelName = (typeof PANELS)[number];

/** Which addresses the tags panel shows: from an address (null: the first), or the last page. */
export type TagView = { readonly from: Addr | null } | { readonly end: true };

const NO_KEY: Key = {
  upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false,
  return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false,
  super: false, hyper: false, capsLock: false, numLock: false,
};

export interface DashboardProps {
  readonly model: DashboardModel;
  /** Called when the tags panel moves, and with the number of rows it has room for. */
  readonly onTagView: (view: TagView, rows: number) => void;
  readonly intervalMs: number;
}

/**
 * The live dashboard (presentational; data comes from use-poll), laid out for the terminal
 * it is in (layout.ts): the header with the verdict always on the first line, a banner when
 * there is no quorum, then peers, traffic and tags, each cut to its rows and columns. Keys:
 * q quits, tab switches panel, ↑↓ PgUp PgDn Home End scroll the focused panel, / jumps to an
 * address. Keys pressed faster than the screen redraws each count (refs, not render state).
 */
export function Dashboard({ model, onTagView, intervalMs }: DashboardProps) {
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const width = Math.max(20, columns - 1);
  const budget = planRows(rows, Math.max(1, model.members.length), !model.hasQuorum);
  // Focus lives in a ref too: keys that arrive before the next render must see the last Tab.
  const focusRef = useRef<PanelName>('peers');
  const [focus, setFocusState] = useState<PanelName>('peers');
  const setFocus = (f: PanelName): void => {
    focusRef.current = f;
    setFocusState(f);
  };
  const [offsets, setOffsets] = useState({ peers: 0, traffic: 0 });
  const jumpRef = useRef<string | null>(null);
  const [jump, setJumpState] = useState<string | null>(null);
  const setJump = (value: string | null): void => {
    jumpRef.current = value;
    setJumpState(value);
  };
  // Tag scrolling: steps taken relative to the page on screen, until the next page arrives.
  const stepRef = useRef(0);
  const shownFrom = model.tagFrom ?? null;
  useEffect(() => {
    stepRef.current = 0;
  }, [shownFrom, model.tagRows]);
  const viewRef = useRef<TagView>({ from: null });
  const showTags = (view: TagView): void => {
    viewRef.current = view;
    onTagView(view, budget.tags);
  };
  useEffect(() => {
    onTagView(viewRef.current, budget.tags);
  }, [budget.tags]);

  /** Moves the tags panel `delta` rows (negative: up) from the page on screen. */
  const scrollTags = (delta: number): void => {
    const step = stepRef.current + delta;
    const shown = model.tagRows;
    const before = model.tagsBefore ?? [];
    if (step >= 0) {
      if (shown.length === 0) return;
      const k = Math.min(step, shown.length - 1);
      stepRef.current = k;
      showTags({ from: shown[k]!.addr });
    } else {
      const k = Math.max(step, -before.length);
      stepRef.current = k;
      showTags({ from: k === 0 ? shownFrom : before[before.length + k] ?? null });
    }
  };

  useInput((input, key) => {
    // Several keys in one chunk (typed fast, pasted, key repeat): handle them one by one.
    if (input.length > 1 && !key.ctrl && !key.meta && !input.startsWith('\u001b')) {
      for (const ch of input) handleKey(ch, { ...NO_KEY, return: ch === '\r', tab: ch === '\t', backspace: ch === '\x7f' || ch === '\b' });
      return;
    }
    handleKey(input, key);
  });

  function handleKey(input: string, key: Key): void {
    const typed = jumpRef.current;
    if (typed !== null) {
      if (key.return) {
        const addr = Number(typed);
        setJump(null);
        if (typed !== '' && Number.isSafeInteger(addr)) showTags({ from: addr });
      } else if (key.escape) {
        setJump(null);
      } else if (key.backspace || key.delete) {
        setJump(typed.slice(0, -1));
      } else if (/^\d+$/.test(input)) {
        setJump(typed + input);
      }
      return;
    }
    if (input === 'q' || (key.ctrl && input === 'c')) {
      exit();
      return;
    }
    const focus = focusRef.current;
    if (key.tab) {
      setFocus(PANELS[(PANELS.indexOf(focus) + (key.shift ? PANELS.length - 1 : 1)) % PANELS.length]!);
      return;
    }
    if (input === '/') {
      setFocus('tags');
      setJump('');
      return;
    }
    const page = focus === 'tags' ? budget.tags : focus === 'peers' ? budget.peers : budget.traffic;
    const delta = key.downArrow ? 1 : key.upArrow ? -1 : key.pageDown ? page : key.pageUp ? -page : 0;
    if (focus === 'tags') {
      if (key.home) showTags({ from: null });
      else if (key.end) showTags({ end: true });
      else if (delta !== 0) scrollTags(delta);
      return;
    }
    const count = focus === 'peers' ? model.members.length : model.traffic.length;
    const last = Math.max(0, count - page);
    if (key.home) setOffsets((o) => ({ ...o, [focus]: 0 }));
    else if (key.end) setOffsets((o) => ({ ...o, [focus]: last }));
    else if (delta !== 0) setOffsets((o) => ({ ...o, [focus]: Math.max(0, Math.min(last, o[focus] + delta)) }));
  }

  const title = `shmem top  via ${model.endpoint ?? '-'} every ${intervalMs}ms`;
  const verdict = fit(model.verdict, Math.min(width, [...model.verdict].length));
  const titleRoom = Math.max(0, width - [...verdict].length - 2);
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>{fit(title, titleRoom)}</Text>
        {titleRoom > 0 ? '  ' : ''}
        <Text bold color={model.hasQuorum ? 'green' : 'red'}>{verdict}</Text>
      </Text>
      {!model.hasQuorum ? (
        <Text bold inverse color="red" wrap="truncate">{fit(` NO QUORUM: reads and writes through this node fail. ${model.error ?? ''}`, width)}</Text>
      ) : model.error ? <Text color="red" wrap="truncate">{fit(model.error, width)}</Text> : null}
      <Panel title={`Peers (${model.members.length})`} focused={focus === 'peers'} width={width}>
        <PeerTable members={model.members} offset={offsets.peers} height={budget.peers} width={width} />
      </Panel>
      <Panel title="Traffic coordinated by each member" focused={focus === 'traffic'} width={width}>
        <TrafficTable rows={model.traffic} offset={offsets.traffic} height={budget.traffic} width={width} />
      </Panel>
      <Panel title={`Tags${shownFrom === null ? '' : ` from address ${shownFrom}`}`} focused={focus === 'tags'} width={width}>
        <TagTable members={model.tagMembers} rows={model.tagRows.slice(0, budget.tags)} height={budget.tags} width={width} />
      </Panel>
      <Text dimColor wrap="truncate">
        {jump !== null ? <Text color="cyan">jump to address: {jump}▏ (enter, esc)</Text> : fit('q quit · tab panel · ↑↓ PgUp PgDn Home End scroll · / jump to address', width)}
      </Text>
    </Box>
  );
}
