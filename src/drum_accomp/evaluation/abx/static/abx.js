// The ABX test: trials in this listener's order; each answer is posted at once, then the next trial shows.
"use strict";

const state = { session: null, index: 0, shownAt: 0 };
const player = new ClipPlayer(document.getElementById("clips"));

function nextOpenTrial() {
  return state.session.trials.findIndex((trial) => !trial.answered);
}

function show() {
  const trials = state.session.trials;
  const index = nextOpenTrial();
  document.getElementById("intro").hidden = true;
  const answered = trials.filter((trial) => trial.answered).length;
  document.getElementById("progress-bar").style.width = `${(100 * answered) / trials.length}%`;
  if (index < 0) {
    player.stop();
    document.getElementById("trial").hidden = true;
    document.getElementById("done").hidden = false;
    document.getElementById("done-count").textContent = trials.length;
    return;
  }
  state.index = index;
  const trial = trials[index];
  document.getElementById("trial").hidden = false;
  document.getElementById("trial").dataset.trialId = trial.trial_id;
  document.getElementById("trial-title").textContent = `Trial ${answered + 1} of ${trials.length}`;
  player.load(["A", "B", "X"].map((slot) => ({ slot, url: trial.audio[slot], label: slot })));
  for (const choice of ["A", "B"]) document.getElementById(`answer-${choice}`).disabled = false;
  state.shownAt = performance.now();
}

async function answer(choice) {
  const trial = state.session.trials[state.index];
  for (const button of ["A", "B"]) document.getElementById(`answer-${button}`).disabled = true;
  try {
    await postJson("/api/abx/answer", {
      listener_id: state.session.listener_id, trial_id: trial.trial_id, choice,
      response_ms: Math.round(performance.now() - state.shownAt),
    });
    showError("");
  } catch (error) {
    if (!/already answered/.test(error.message)) {
      showError(`Your answer was not saved: ${error.message}`);
      for (const button of ["A", "B"]) document.getElementById(`answer-${button}`).disabled = false;
      return;
    }
  }
  trial.answered = true;
  show();
}

async function start() {
  document.getElementById("start").disabled = true;
  try {
    state.session = await startSession("abx", document.getElementById("name").value);
    show();
  } catch (error) {
    showError(error.message);
    document.getElementById("start").disabled = false;
  }
}

document.getElementById("start").addEventListener("click", start);
document.getElementById("answer-A").addEventListener("click", () => answer("A"));
document.getElementById("answer-B").addEventListener("click", () => answer("B"));
document.getElementById("new-listener").addEventListener("click", () => { forgetListener(); location.reload(); });
api("/api/info").then((info) => {
  document.getElementById("licence").textContent = `${info.num_trials} trials from the ${info.split} songs. ${info.licence_note}`;
}).catch((error) => showError(error.message));
