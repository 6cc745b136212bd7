/**
 * What the server reports about itself (`/health`) and the live feed, each in words with what to
 * do when it is not right, so a first run without keys explains itself.
 */
import type { HealthResponse } from '../../../common/protocol';
import type { FeedLink } from '../feed/useSessionFeed';
import type { HealthCheck } from '../status/useHealth';

type Level = 'ok' | 'bad' | 'unknown';
interface Check {
  name: string;
  level: Level;
  value: string;
  advice?: string;
}

const SETUP: Record<keyof HealthResponse['providers'], { name: string; advice: string }> = {
  stt: {
    name: 'Speech to text',
    advice: 'Set DEEPGRAM_API_KEY in .env, or STT_BASE_URL for a local server.',
  },
  llm: {
    name: 'Language model',
    advice: 'Set OPENAI_API_KEY in .env, or LLM_BASE_URL for a local server.',
  },
  tts: {
    name: 'Text to speech',
    advice: 'Set OPENAI_API_KEY in .env, or TTS_BASE_URL for a local server.',
  },
};

const PROVIDER_NAMES: Record<string, string> = {
  deepgram: 'Deepgram',
  openai: 'OpenAI',
  'openai-compatible': 'OpenAI-compatible',
};

const FEED: Record<FeedLink, Pick<Check, 'level' | 'value'>> = {
  off: { level: 'unknown', value: 'No open conversation' },
  connecting: { level: 'unknown', value: 'Connecting…' },
  live: { level: 'ok', value: 'Receiving' },
  reconnecting: { level: 'bad', value: 'Reconnecting…' },
};

function checksOf(check: HealthCheck, feed: FeedLink): Check[] {
  const live = { name: 'Live updates', ...FEED[feed] };
  if (check.api !== 'reachable') {
    const unreachable = check.api === 'unreachable';
    return [
      {
        name: 'API server',
        level: unreachable ? 'bad' : 'unknown',
        value: unreachable ? 'Not reachable' : 'Checking…',
        ...(unreachable && {
          advice: 'Start it with npm start; this page retries every 10 seconds.',
        }),
      },
      live,
    ];
  }
  const { livekit, providers } = check.health;
  const stages = (Object.keys(SETUP) as (keyof typeof SETUP)[]).map((stage): Check => {
    const { name, configured, model } = providers[stage];
    const provider = [PROVIDER_NAMES[name] ?? name, model].filter(Boolean).join(' · ');
    return configured
      ? { name: SETUP[stage].name, level: 'ok', value: provider }
      : {
          name: SETUP[stage].name,
          level: 'bad',
          value: 'Not configured',
          advice: SETUP[stage].advice,
        };
  });
  return [
    { name: 'API server', level: 'ok', value: `Running, version ${check.health.version}` },
    livekit.reachable
      ? { name: 'LiveKit', level: 'ok', value: 'Reachable' }
      : {
          name: 'LiveKit',
          level: 'bad',
          value: 'Not reachable',
          advice: `Calls need it at ${livekit.url}. Start it with npm start, or set LIVEKIT_URL.`,
        },
    ...stages,
    live,
  ];
}

export function StatusPanel({ health, feed }: { health: HealthCheck; feed: FeedLink }) {
  return (
    <ul className="checks">
      {checksOf(health, feed).map((check) => (
        <li key={check.name} className="check" data-level={check.level}>
          <span className="check-dot" aria-hidden="true" />
          <span className="check-name">{check.name}</span>
          <span className="check-value">{check.value}</span>
          {check.advice && <span className="check-advice">{check.advice}</span>}
        </li>
      ))}
    </ul>
  );
}
