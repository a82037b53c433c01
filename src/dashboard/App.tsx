import type { ShmemClient } from '../client/shmem-client.js';
import { Dashboard } from './Dashboard.js';
import { usePoll } from './use-poll.js';

/** The dashboard wired to live polling. */
export function App({ client, intervalMs, tagRows }: { client: ShmemClient; intervalMs: number; tagRows: number }) {
  const [model, showTags] = usePoll(client, intervalMs, tagRows);
  return <Dashboard model={model} onTagView={showTags} intervalMs={intervalMs} />;
}
