// The summary: the server computes the statistics (/api/summary); this page only lays them out.
"use strict";

function row(cells, data = {}) {
  const tr = document.createElement("tr");
  for (const [key, value] of Object.entries(data)) tr.dataset[key] = value;
  for (const [text, className] of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    tr.append(td);
  }
  return tr;
}

async function refresh() {
  try {
    const summary = await api("/api/summary");
    document.querySelector("#abx-summary tbody").replaceChildren(...summary.abx.map((score) => row([
      [score.condition], [score.num_answers, "num col-answers"], [score.num_correct, "num col-correct"],
      [score.accuracy.toFixed(3), "num col-accuracy"], [formatP(score.p_value), "num col-p-value"],
      [score.num_listeners, "num col-listeners"]], { condition: score.condition })));
    document.getElementById("abx-empty").hidden = summary.abx.length > 0;
    document.querySelector("#abx-listeners tbody").replaceChildren(...summary.abx_per_listener.map((score) => row([
      [score.listener_id.slice(0, 8)], [score.condition], [score.num_answers, "num"], [score.num_correct, "num"],
      [score.accuracy.toFixed(3), "num col-accuracy"], [formatP(score.p_value), "num"]],
      { listener: score.listener_id, condition: score.condition })));
    document.querySelector("#rating-summary tbody").replaceChildren(...summary.ratings.map((score) => row([
      [score.condition], [score.source], [score.num_ratings, "num"], [score.mean.toFixed(2), "num col-mean"],
      [score.std.toFixed(2), "num"]], { condition: score.condition, source: score.source })));
    document.getElementById("rating-empty").hidden = summary.ratings.length > 0;
    document.querySelector("#trial-list tbody").replaceChildren(...summary.trials.map((trial) => row([
      [trial.trial_id], [trial.song], [trial.condition], [trial.licence]])));
    document.getElementById("trial-facts").textContent = `${summary.num_trials} trials from the ${summary.split} ` +
      `songs; listeners ${summary.num_listeners}, ABX answers ${summary.num_abx_answers}, ratings ${summary.num_ratings}.`;
    document.getElementById("licence").textContent = summary.licence_note;
    showError("");
  } catch (error) {
    showError(error.message);
  }
}

document.getElementById("refresh").addEventListener("click", refresh);
refresh();
