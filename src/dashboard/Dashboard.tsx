import { Box, Text, useApp, useInput, type Key } from 'ink';
import { useRef, useState } from 'react';
import { PeerTable } from './PeerTable.js';
import { Panel } from './Panel.js';
import { TagTable } from './TagTable.js';
import { TrafficTable } from './TrafficTable.js';
import type { DashboardModel } from './view-model.js';

export const PANELS = ['peers', 'traffic', 'tags'] as const;

const NO_KEY: Key = {
  upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false,
  return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false,
  super: false, hyper: false, capsLock: false, numLock: false,
};
export type PanelName = (typeof PANELS)[number];

export interface DashboardProps {
  readonly model: DashboardModel;
  /** Called when the tags panel scrolls or jumps: list addresses after this one (null: from 0). */
  readonly onTagCursor: (after: number | null) => void;
  readonly intervalMs: number;
}

/**
 * The live dashboard (presentational; data comes from use-poll). Keys: q quits, tab
 * switches panel, up/down scroll the focused panel, / jumps to an address.
 */
export function Dashboard({ model, onTagCursor, intervalMs }: DashboardProps) {
  const { exit } = useApp();
  const [focus, setFocus] = useState<PanelName>('peers');
  const [offsets, setOffsets] = useState({ peers: 0, traffic: 0 });
  const [tagHistory, setTagHistory] = useState<(number | null)[]>([]);
  const [tagAfter, setTagAfter] = useState<number | null>(null);
  // Keys can arrive faster than renders (a paste, tmux send-keys): the jump prompt lives in a
  // ref so each key sees the previous one's effect; the state only re-renders the prompt.
  const jumpRef = useRef<string | null>(null);
  const [jump, setJumpState] = useState<string | null>(null);
  const setJump = (value: string | null): void => {
    jumpRef.current = value;
    setJumpState(value);
  };
  const tagAfterRef = useRef<number | null>(null);

  const moveTags = (after: number | null, back: boolean): void => {
    const from = tagAfterRef.current;
    setTagHistory((h) => (back ? h.slice(0, -1) : [...h, from]));
    tagAfterRef.current = after;
    setTagAfter(after);
    onTagCursor(after);
  };

  useInput((input, key) => {
    // Several keys in one chunk (typed fast, pasted): handle them one by one.
    if (input.length > 1 && !key.ctrl && !key.meta) {
      for (const ch of input) handleKey(ch, { ...NO_KEY, return: ch === '\r' });
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
        if (typed !== '' && Number.isSafeInteger(addr)) moveTags(addr === 0 ? null : addr - 1, false);
      } else if (key.escape) {
        setJump(null);
      } else if (key.backspace || key.delete) {
        setJump(typed.slice(0, -1));
      } else if (/^\d+$/.test(input)) {
        setJump(typed + input);
      }
      return;
    }
    if (input === 'q' || (key.ctrl && input === 'c')) exit();
    else if (key.tab) setFocus(PANELS[(PANELS.indexOf(focus) + (key.shift ? PANELS.length - 1 : 1)) % PANELS.length]!);
    else if (input === '/') {
      setFocus('tags');
      setJump('');
    } else if (key.downArrow || key.upArrow) {
      const down = key.downArrow;
      if (focus === 'tags') {
        const first = model.tagRows[0];
        if (down && first && model.tagRows.length > 1) moveTags(first.addr, false);
        else if (!down && tagHistory.length > 0) moveTags(tagHistory.at(-1) ?? null, true);
      } else {
        const rows = focus === 'peers' ? model.members.length : model.traffic.length;
        setOffsets((o) => ({ ...o, [focus]: Math.max(0, Math.min(rows - 1, o[focus] + (down ? 1 : -1))) }));
      }
    }
  }

  return (
    <Box flexDirection="column">
      <Box justifyContent="space-between">
        <Text bold>shmem top <Text dimColor>via {model.endpoint ?? '-'} every {intervalMs}ms</Text></Text>
        <Text bold color={model.hasQuorum ? 'green' : 'red'}>{model.verdict}</Text>
      </Box>
      {model.error ? <Text color="red">{model.error}</Text> : null}
      <Panel title="Peers" focused={focus === 'peers'}><PeerTable members={model.members} offset={offsets.peers} /></Panel>
      <Panel title="Traffic (operations coordinated by each member)" focused={focus === 'traffic'}>
        <TrafficTable rows={model.traffic} offset={offsets.traffic} />
      </Panel>
      <Panel title={`Tags${tagAfter === null ? '' : ` (after address ${tagAfter})`}`} focused={focus === 'tags'}>
        <TagTable members={model.tagMembers} rows={model.tagRows} />
      </Panel>
      <Text dimColor>
        {jump !== null ? <Text color="cyan">jump to address: {jump}▏ (enter, esc)</Text> : 'q quit · tab switch panel · ↑↓ scroll · / jump to address'}
      </Text>
    </Box>
  );
}
