import { Box, Text } from 'ink';
import type { ReactNode } from 'react';

/**
 * A panel: one title line drawn as a rule (the focused panel's in cyan), then its content.
 * No box border: on an 80x24 terminal the two border lines per panel are the rows the tags need.
 */
export function Panel({ title, focused, width, children }: { title: string; focused: boolean; width: number; children: ReactNode }) {
  const head = `── ${title} `;
  return (
    <Box flexDirection="column">
      <Text bold={focused} color={focused ? 'cyan' : 'gray'} wrap="truncate">{head}{'─'.repeat(Math.max(0, width - [...head].length))}</Text>
      {children}
    </Box>
  );
}
