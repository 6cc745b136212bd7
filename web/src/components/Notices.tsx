/** What needs a person's attention, above the conversation: problems first, each with a way on. */
import type { CallProblem } from '../call/problems';
import { describeEnd } from '../session/plainWords';

interface NoticesProps {
  problem: CallProblem | undefined;
  endReason: string | undefined;
  agentError: { message: string; recoverable: boolean } | undefined;
  onRetryCall: () => void;
  onTypeInstead: () => void;
  onDismiss: () => void;
}

export function Notices({
  problem,
  endReason,
  agentError,
  onRetryCall,
  onTypeInstead,
  onDismiss,
}: NoticesProps) {
  return (
    <div className="notices">
      {problem && (
        <div className="notice bad" role="alert">
          <p>{problem.message}</p>
          <div className="notice-actions">
            {problem.kind === 'microphone' && (
              <button type="button" className="button small primary" onClick={onTypeInstead}>
                Type a message instead
              </button>
            )}
            <button type="button" className="button small" onClick={onRetryCall}>
              Try the call again
            </button>
            <button type="button" className="button small quiet" onClick={onDismiss}>
              Dismiss
            </button>
          </div>
        </div>
      )}
      {agentError && (
        <div className={`notice ${agentError.recoverable ? 'warn' : 'bad'}`} role="alert">
          <p>{agentError.message}</p>
        </div>
      )}
      {endReason && (
        <div className="notice info" role="status">
          <p>{describeEnd(endReason)}</p>
        </div>
      )}
    </div>
  );
}
