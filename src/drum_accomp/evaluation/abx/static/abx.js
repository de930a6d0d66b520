// The ABX test: trials in this listener's order; each answer is posted at once, then the next trial shows.
"use strict";

const state = { session: null, index: 0, shownAt: 0 };
const player = new ClipPlayer(document.getElementById("clips"));

function show() {
  const trial = showNextTrial(state, player, "Trial");
  if (!trial) return;
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
