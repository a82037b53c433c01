import { Box, Text } from 'ink';
import { formatAgo, formatMs, sparkline, type MemberView } from './view-model.js';

const STATE_COLOR: Record<string, string> = { self: 'green', up: 'green', suspect: 'yellow', down: 'red', mismatch: 'magenta', unreachable: 'red' };

/** Peers: state, RTT with a sparkline of its history, last contact. */
export function PeerTable({ members, offset }: { members: readonly MemberView[]; offset: number }) {
  return (
    <Box flexDirection="column">
      <Box>
        <Box width={24}><Text dimColor>MEMBER</Text></Box>
        <Box width={20}><Text dimColor>STATE</Text></Box>
        <Box width={10}><Text dimColor>NODE</Text></Box>
        <Box width={10}><Text dimColor>RTT</Text></Box>
        <Box width={16}><Text dimColor>HISTORY</Text></Box>
        <Text dimColor>LAST CONTACT</Text>
      </Box>
      {members.slice(offset).map((m) => (
        <Box key={m.member}>
          <Box width={24}><Text>{m.member}</Text></Box>
          <Box width={20}><Text color={STATE_COLOR[m.state]}>{m.state}{m.recovering ? ' recovering' : ''}</Text></Box>
          <Box width={10}><Text>{m.nodeId ?? '?'}</Text></Box>
          <Box width={10}><Text>{m.state === 'self' ? '-' : formatMs(m.rttMs)}</Text></Box>
          <Box width={16}><Text color="cyan">{sparkline(m.rttHistoryMs, 14)}</Text></Box>
          <Text>{m.state === 'self' ? '-' : formatAgo(m.lastContactMsAgo)}</Text>
        </Box>
      ))}
    </Box>
  );
}
