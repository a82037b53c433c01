import { useEffect, useRef, useState } from 'react';
import type { ShmemClient } from '../client/shmem-client.js';
import type { TagView } from './Dashboard.js';
import { Poller } from './poller.js';
import { EMPTY_MODEL, type DashboardModel } from './view-model.js';

/**
 * Polls the cluster every `intervalMs`, and at once when the tags panel moves or resizes;
 * returns the latest model and the setter for the tags view. Polls never overlap, and the
 * answer of a poll for a view that changed meanwhile is dropped.
 */
export function usePoll(client: ShmemClient, intervalMs: number, tagRows: number): [DashboardModel, (view: TagView, rows: number) => void] {
  const [model, setModel] = useState<DashboardModel>(EMPTY_MODEL);
  const [view, setView] = useState<{ view: TagView; rows: number }>({ view: { from: null }, rows: tagRows });
  const poller = useRef(new Poller(client, tagRows));
  useEffect(() => {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async (): Promise<void> => {
      const next = await poller.current.poll(view.view, view.rows);
      if (stopped) return;
      setModel(next);
      timer = setTimeout(() => void tick(), intervalMs);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [view, intervalMs]);
  const show = (next: TagView, rows: number): void => setView((v) => (sameView(v.view, next) && v.rows === rows ? v : { view: next, rows }));
  return [model, show];
}

function sameView(a: TagView, b: TagView): boolean {
  return 'end' in a ? 'end' in b : !('end' in b) && a.from === b.from;
}
