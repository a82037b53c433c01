import { Box, Text } from 'ink';
import type { ReactNode } from 'react';

/** A titled, bordered panel; the focused one is highlighted. */
export function Panel({ title, focused, children }: { title: string; focused: boolean; children: ReactNode }) {
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={focused ? 'cyan' : 'gray'} paddingX={1}>
      <Text bold color={focused ? 'cyan' : undefined}>{title}</Text>
      {children}
    </Box>
  );
}
