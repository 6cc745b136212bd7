/**
 * A live loudness bar for one audio track (the microphone, or the agent's voice), read with an
 * AnalyserNode each frame and drawn by style, not React state, so it costs no re-renders.
 */
import { useEffect, useRef } from 'react';

/** One context for every meter; created on first use, which follows the click that starts a call. */
let sharedContext: AudioContext | undefined;
const audioContext = () => {
  sharedContext ??= new AudioContext();
  return sharedContext;
};

/** Speech sits between about -60 dBFS (quiet) and 0 dBFS; the bar spans that range. */
const FLOOR_DB = -60;

export function LevelMeter({
  label,
  track,
}: {
  label: string;
  track: MediaStreamTrack | undefined;
}) {
  const barRef = useRef<HTMLSpanElement>(null);

  useEffect(() => {
    const bar = barRef.current;
    if (!track || !bar) return;
    const context = audioContext();
    void context.resume();
    const source = context.createMediaStreamSource(new MediaStream([track]));
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    let frame = 0;
    const draw = () => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const sample of samples) sum += sample * sample;
      const db = 10 * Math.log10(sum / samples.length || 1e-12);
      const level = Math.min(1, Math.max(0, 1 - db / FLOOR_DB));
      bar.style.transform = `scaleX(${level.toFixed(3)})`;
      frame = requestAnimationFrame(draw);
    };
    draw();
    return () => {
      cancelAnimationFrame(frame);
      source.disconnect();
      bar.style.transform = 'scaleX(0)';
    };
  }, [track]);

  return (
    <div className="meter" data-active={track ? 'true' : 'false'}>
      <span className="meter-label">{label}</span>
      <span className="meter-track" aria-hidden="true">
        <span className="meter-bar" ref={barRef} />
      </span>
    </div>
  );
}
