/**
 * What the server allows this page (`GET /api/page`), asked once at load: which origins may embed
 * it and hand it a session, and whether it may open sessions itself. When it may, `ticket()`
 * gives the page ticket to send, fetching a fresh one first when the one it holds is about to run
 * out (or was never fetched), so a page left open for hours still opens sessions.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { PageConfigResponse } from '../../../common/protocol';
import { getPageConfig } from './api';

/** A ticket with less than this left is replaced before use: the request still has to arrive. */
const TICKET_MARGIN_MS = 60_000;

const hasFreshTicket = (config: PageConfigResponse | undefined) =>
  config?.ticketExpiresAt !== undefined &&
  Date.parse(config.ticketExpiresAt) - Date.now() > TICKET_MARGIN_MS;

export function usePageAccess() {
  const latest = useRef<PageConfigResponse | undefined>(undefined);
  // Kept apart from the config so a ticket renewal does not count as a change of origins.
  const [embedOrigins, setEmbedOrigins] = useState<string[]>();

  useEffect(() => {
    let stopped = false;
    getPageConfig().then(
      (config) => {
        if (stopped) return;
        latest.current ??= config;
        setEmbedOrigins(config.embedOrigins);
      },
      // The server is not reachable: the status panel says so, and `ticket()` asks again.
      () => {},
    );
    return () => {
      stopped = true;
    };
  }, []);

  /** The ticket to open a session with; undefined when the page may not open sessions. */
  const ticket = useCallback(async (): Promise<string | undefined> => {
    if (latest.current?.sessions !== 'off' && !hasFreshTicket(latest.current)) {
      latest.current = await getPageConfig();
    }
    return latest.current?.ticket;
  }, []);

  return { embedOrigins, ticket };
}
