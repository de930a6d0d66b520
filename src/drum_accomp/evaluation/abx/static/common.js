// Shared by every page: the JSON API, the listener id kept in this browser, and clip players.
"use strict";

const LISTENER_KEY = "drum_accomp_abx_listener";

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const payload = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(payload.error || `HTTP ${response.status}`);
  return payload;
}

function postJson(path, body) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

// The listener's session in one mode ("abx" or "rating"); a new listener when this browser has none (or the
// server does not know it, e.g. a fresh answers database).
async function startSession(mode, name) {
  let listenerId = localStorage.getItem(LISTENER_KEY);
  if (listenerId) {
    try {
      return await api(`/api/session/${mode}?listener=${encodeURIComponent(listenerId)}`);
    } catch (error) {
      if (!/unknown listener/.test(error.message)) throw error;
    }
  }
  listenerId = (await postJson("/api/listeners", { name: name || null })).listener_id;
  localStorage.setItem(LISTENER_KEY, listenerId);
  return api(`/api/session/${mode}?listener=${encodeURIComponent(listenerId)}`);
}

// Show the listener's next unanswered trial (progress bar, title "<word> n of N"), or the "done" panel when every
// trial is answered. Returns the trial shown, or null when done. Used by the ABX and the rating pages.
function showNextTrial(state, player, word) {
  const trials = state.session.trials;
  const index = trials.findIndex((trial) => !trial.answered);
  const answered = trials.filter((trial) => trial.answered).length;
  document.getElementById("intro").hidden = true;
  document.getElementById("progress-bar").style.width = `${(100 * answered) / trials.length}%`;
  if (index < 0) {
    player.stop();
    document.getElementById("trial").hidden = true;
    document.getElementById("done").hidden = false;
    document.getElementById("done-count").textContent = trials.length;
    return null;
  }
  state.index = index;
  const trial = trials[index];
  document.getElementById("trial").hidden = false;
  document.getElementById("trial").dataset.trialId = trial.trial_id;
  document.getElementById("trial-title").textContent = `${word} ${answered + 1} of ${trials.length}`;
  return trial;
}

function forgetListener() {
  localStorage.removeItem(LISTENER_KEY);
}

// Play buttons over <audio> elements: one clip at a time, a button shows which one plays.
class ClipPlayer {
  constructor(container) {
    this.container = container;
    this.clips = [];
  }

  load(sources) {  // sources: [{slot, url, label}]
    this.stop();
    this.container.replaceChildren();
    this.clips = sources.map(({ slot, url, label }) => {
      const audio = new Audio(url);
      audio.preload = "auto";
      audio.id = `audio-${slot}`;
      const button = document.createElement("button");
      button.id = `play-${slot}`;
      button.textContent = `▶ ${label}`;
      button.addEventListener("click", () => this.toggle(slot));
      audio.addEventListener("ended", () => this.mark(null));
      this.container.append(button, audio);
      return { slot, audio, button, label };
    });
  }

  toggle(slot) {
    const clip = this.clips.find((item) => item.slot === slot);
    const wasPlaying = clip && !clip.audio.paused;
    this.stop();
    if (clip && !wasPlaying) {
      clip.audio.currentTime = 0;
      clip.audio.play().catch((error) => showError(`cannot play clip ${slot}: ${error.message}`));
      this.mark(slot);
    }
  }

  stop() {
    for (const clip of this.clips) clip.audio.pause();
    this.mark(null);
  }

  mark(slot) {
    for (const clip of this.clips) {
      clip.button.classList.toggle("playing", clip.slot === slot);
      clip.button.textContent = `${clip.slot === slot ? "■" : "▶"} ${clip.label}`;
    }
  }
}

function showError(message) {
  document.getElementById("error").textContent = message || "";
}

function formatP(value) {
  return value < 0.001 ? value.toExponential(1) : value.toFixed(3);
}
