import { Box, Text } from 'ink';
import { formatMs, type TrafficRow } from './view-model.js';

const num = (v: number | null): string => (v === null ? '-' : String(v));

/** Traffic coordinated by each member: rates, latency percentiles, quorum failures. */
export function TrafficTable({ rows, offset }: { rows: readonly TrafficRow[]; offset: number }) {
  return (
    <Box flexDirection="column">
      <Box>
        <Box width={24}><Text dimColor>MEMBER</Text></Box>
        <Box width={10}><Text dimColor>READS/S</Text></Box>
        <Box width={10}><Text dimColor>WRITES/S</Text></Box>
        <Box width={20}><Text dimColor>READ p50/p99</Text></Box>
        <Box width={20}><Text dimColor>WRITE p50/p99</Text></Box>
        <Text dimColor>NO QUORUM</Text>
      </Box>
      {rows.slice(offset).map((r) => (
        <Box key={r.member}>
          <Box width={24}><Text>{r.member}</Text></Box>
          <Box width={10}><Text>{num(r.readsPerSec)}</Text></Box>
          <Box width={10}><Text>{num(r.writesPerSec)}</Text></Box>
          <Box width={20}><Text>{formatMs(r.readP50Ms)} / {formatMs(r.readP99Ms)}</Text></Box>
          <Box width={20}><Text>{formatMs(r.writeP50Ms)} / {formatMs(r.writeP99Ms)}</Text></Box>
          <Text color={(r.quorumFailures ?? 0) > 0 ? 'red' : undefined}>{num(r.quorumFailures)}</Text>
        </Box>
      ))}
    </Box>
  );
}
