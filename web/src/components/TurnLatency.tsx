/** How long the latest voice turns took, from the agent's `metrics` events. */
import type { TurnMetrics } from '../feed/feedState';

const ms = (value: number | null) => (value === null ? '—' : `${Math.round(value)} ms`);

export function TurnLatency({ metrics }: { metrics: TurnMetrics[] }) {
  if (metrics.length === 0) {
    return <p className="muted small">Timings appear after the agent's first spoken reply.</p>;
  }
  return (
    <table className="latency">
      <caption className="visually-hidden">Latency of the latest turns, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Voice to voice</th>
          <th scope="col">LLM first token</th>
          <th scope="col">TTS first byte</th>
        </tr>
      </thead>
      <tbody>
        {metrics.map((turn) => (
          <tr key={turn.turnId}>
            <td>{ms(turn.voiceToVoiceMs)}</td>
            <td>{ms(turn.llmTtftMs)}</td>
            <td>{ms(turn.ttsTtfbMs)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
