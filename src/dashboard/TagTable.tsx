import { Box, Text } from 'ink';
import { formatTagCell, type TagRow } from './view-model.js';

/** Addresses with the tag each replica holds; replicas behind the newest tag are marked. */
export function TagTable({ members, rows }: { members: readonly string[]; rows: readonly TagRow[] }) {
  return (
    <Box flexDirection="column">
      <Box>
        <Box width={12}><Text dimColor>ADDR</Text></Box>
        {members.map((m) => <Box key={m} width={24}><Text dimColor>{m}</Text></Box>)}
      </Box>
      {rows.length === 0 ? <Text dimColor>no addresses written here yet</Text> : null}
      {rows.map((r) => (
        <Box key={r.addr}>
          <Box width={12}><Text>{r.addr}</Text></Box>
          {r.tags.map((t, i) => (
            <Box key={members[i]} width={24}>
              <Text color={r.behind[i] ? 'yellow' : undefined} bold={r.behind[i]}>{formatTagCell(t)}{r.behind[i] ? ' behind' : ''}</Text>
            </Box>
          ))}
        </Box>
      ))}
    </Box>
  );
}
