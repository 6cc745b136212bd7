/** The call page: the call, the conversation, and the server's status, in reading order. */
import { useRef } from 'react';
import { useCall } from './call/useCall';
import { useChat } from './chat/useChat';
import { CallPanel } from './components/CallPanel';
import { Composer } from './components/Composer';
import { Notices } from './components/Notices';
import { StatusPanel } from './components/StatusPanel';
import { Transcript } from './components/Transcript';
import { TurnLatency } from './components/TurnLatency';
import type { SessionKeys } from './session/api';
import { useSession } from './session/useSession';
import { type HealthCheck, useHealth } from './status/useHealth';

const callUnavailable = (check: HealthCheck) => {
  if (check.api === 'unreachable') return 'The server is not reachable, so calls cannot start.';
  if (check.api === 'reachable' && !check.health.livekit.reachable) {
    return 'Calls need LiveKit, which is not reachable (see Status). You can still type.';
  }
  return undefined;
};

interface AppProps {
  /** The session the address's fragment handed over at load, if any. */
  handedOver: SessionKeys | undefined;
}

export function App({ handedOver }: AppProps) {
  const health = useHealth();
  const session = useSession(handedOver);
  const call = useCall(session);
  const chat = useChat(session);
  const messageRef = useRef<HTMLTextAreaElement>(null);
  const { feed } = session;

  return (
    <div className="page">
      <header className="topbar">
        <h1 className="brand">
          <img src="/favicon.svg" alt="" width="28" height="28" />
          Voice agent
        </h1>
        <a className="topbar-link" href="/docs">
          API docs
        </a>
      </header>
      <main className="layout">
        <CallPanel call={call} turnState={feed.turnState} unavailable={callUnavailable(health)} />
        <section className="card conversation" aria-labelledby="conversation-title">
          <h2 id="conversation-title" className="card-title">
            Conversation
          </h2>
          <Notices
            problem={call.problem}
            endReason={feed.endReason}
            agentError={feed.agentError}
            onRetryCall={() => void call.start()}
            onTypeInstead={() => messageRef.current?.focus()}
            onDismiss={call.dismissProblem}
          />
          <Transcript lines={feed.lines} />
          <Composer
            onSend={chat.send}
            sending={chat.sending}
            error={chat.error}
            inputRef={messageRef}
          />
        </section>
        <section className="card status" aria-labelledby="status-title">
          <h2 id="status-title" className="card-title">
            Status
          </h2>
          <StatusPanel health={health} feed={feed.link} />
          <h3 className="card-subtitle">Latency per turn</h3>
          <TurnLatency metrics={feed.metrics} />
        </section>
      </main>
    </div>
  );
}
