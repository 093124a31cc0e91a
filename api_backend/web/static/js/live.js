// Live job updates: Server-Sent Events per unfinished job, with polling as the fallback.
//
// Browsers allow only ~6 connections per origin over HTTP/1.1 and every open event stream holds one,
// so at most MAX_STREAMS jobs are followed by SSE at a time; the others are polled every few seconds.
import { eventsPath, getApiKey, getJob } from "./api.js";
import { isTerminal } from "./format.js";

const MAX_STREAMS = 3;
const POLL_MS = 2000;
const MAX_STREAM_ERRORS = 3;
let openStreams = 0;

/**
 * Call onJob(job) on every change of the job until it ends (succeeded, failed or cancelled).
 * onError(apiError) when the job cannot be read any more (e.g. deleted). Returns stop().
 */
export function watchJob(id, onJob, { onError } = {}) {
  let stopped = false;
  let source = null;
  let timer = null;
  let errors = 0;

  const finish = () => {
    stopped = true;
    closeStream();
    if (timer) window.clearTimeout(timer);
    timer = null;
  };

  const deliver = (job) => {
    if (stopped) return;
    onJob(job);
    if (isTerminal(job)) finish();
  };

  function closeStream() {
    if (source) {
      source.close();
      source = null;
      openStreams -= 1;
    }
  }

  function poll() {
    if (stopped) return;
    getJob(id)
      .then((job) => {
        deliver(job);
        if (!stopped) timer = window.setTimeout(poll, POLL_MS);
      })
      .catch((error) => {
        if (stopped) return;
        if (error.status === 404) {
          finish();
          if (onError) onError(error);
        } else {
          timer = window.setTimeout(poll, POLL_MS * 2);
        }
      });
  }

  function stream() {
    source = new EventSource(eventsPath(id));
    openStreams += 1;
    source.addEventListener("job", (event) => {
      errors = 0;
      try {
        deliver(JSON.parse(event.data));
      } catch {
        // A malformed event is skipped; the next one carries the whole job again.
      }
    });
    source.addEventListener("end", () => {
      // Close before the server hangs up, or EventSource would reconnect.
      closeStream();
      if (!stopped) poll();
    });
    source.addEventListener("error", () => {
      errors += 1;
      if (source && (source.readyState === EventSource.CLOSED || errors >= MAX_STREAM_ERRORS)) {
        closeStream();
        poll();
      }
    });
  }

  // EventSource cannot send an Authorization header: with an API key the job is polled instead.
  if (openStreams < MAX_STREAMS && "EventSource" in window && !getApiKey()) stream();
  else poll();
  window.addEventListener("pagehide", finish, { once: true });
  return finish;
}
