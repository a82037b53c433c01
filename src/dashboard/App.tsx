import { Dashboard } from './Dashboard.js';
import { usePoll } from './use-poll.js';

/** The dashboard wired to live polling. */
export function App({ endpoints, intervalMs, tagRows }: { endpoints: readonly string[]; intervalMs: number; tagRows: number }) {
  const [model, setAfter] = usePoll(endpoints, intervalMs, tagRows);
  return <Dashboard model={model} onTagCursor={setAfter} intervalMs={intervalMs} />;
}
