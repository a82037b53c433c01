import { useEffect, useRef, useState } from 'react';
import type { ShmemClient } from '../client/shmem-client.js';
import { Poller } from './poller.js';
import { EMPTY_MODEL, type DashboardModel } from './view-model.js';

/**
 * Polls the cluster every `intervalMs` (and at once when the tag cursor moves); returns the
 * latest model and a setter for the tag cursor. Polls never overlap.
 */
export function usePoll(client: ShmemClient, intervalMs: number, tagRows: number): [DashboardModel, (after: number | null) => void] {
  const [model, setModel] = useState<DashboardModel>(EMPTY_MODEL);
  const [after, setAfter] = useState<number | null>(null);
  const poller = useRef(new Poller(client, tagRows));
  useEffect(() => {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async (): Promise<void> => {
      const next = await poller.current.poll(after);
      if (stopped) return;
      setModel(next);
      timer = setTimeout(() => void tick(), intervalMs);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [after, intervalMs]);
  return [model, setAfter];
}
