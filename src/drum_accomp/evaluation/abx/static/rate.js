// Rating mode: one clip per trial (real or generated, drawn per listener), a rating 1-5 posted at once.
"use strict";

const RATINGS = [1, 2, 3, 4, 5];
const state = { session: null, index: 0, shownAt: 0 };
const player = new ClipPlayer(document.getElementById("clips"));

function setRatingButtons(enabled) {
  for (const value of RATINGS) document.getElementById(`rate-${value}`).disabled = !enabled;
}

function show() {
  const trial = showNextTrial(state, player, "Clip");
  if (!trial) return;
  player.load([{ slot: "R", url: trial.audio.R, label: "Play" }]);
  setRatingButtons(true);
  state.shownAt = performance.now();
}

async function rate(value) {
  const trial = state.session.trials[state.index];
  setRatingButtons(false);
  try {
    await postJson("/api/rating/answer", {
      listener_id: state.session.listener_id, trial_id: trial.trial_id, rating: value,
      response_ms: Math.round(performance.now() - state.shownAt),
    });
    showError("");
  } catch (error) {
    if (!/already answered/.test(error.message)) {
      showError(`Your rating was not saved: ${error.message}`);
      setRatingButtons(true);
      return;
    }
  }
  trial.answered = true;
  show();
}

document.getElementById("start").addEventListener("click", async () => {
  document.getElementById("start").disabled = true;
  try {
    state.session = await startSession("rating", document.getElementById("name").value);
    show();
  } catch (error) {
    showError(error.message);
    document.getElementById("start").disabled = false;
  }
});
for (const value of RATINGS) document.getElementById(`rate-${value}`).addEventListener("click", () => rate(value));
api("/api/info").then((info) => {
  document.getElementById("licence").textContent = info.licence_note;
}).catch((error) => showError(error.message));
