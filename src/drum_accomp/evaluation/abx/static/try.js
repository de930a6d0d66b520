// The Try-it page: the chosen file goes to the server as the raw request body (genre, seed, name in the query).
"use strict";

const state = { maxUploadMb: null };

async function generate() {
  const file = document.getElementById("file").files[0];
  if (!file) {
    showError("Choose a backing track first (wav, flac, ogg or mp3).");
    return;
  }
  if (state.maxUploadMb !== null && file.size > state.maxUploadMb * 1e6) {
    showError(`${file.name} is ${(file.size / 1e6).toFixed(1)} MB, over the ${state.maxUploadMb} MB limit; ` +
      "upload a shorter file.");
    return;
  }
  const genre = document.getElementById("genre").value;
  const seed = document.getElementById("seed").value;
  const query = new URLSearchParams({ genre, seed, filename: file.name });
  const button = document.getElementById("generate");
  button.disabled = true;
  showError("");
  document.getElementById("result").hidden = true;
  document.getElementById("status").textContent = "Writing drums… (the first request also loads the model)";
  try {
    const result = await api(`/api/try?${query}`, {
      method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: file,
    });
    document.getElementById("drums-player").src = result.files["drums.wav"];
    document.getElementById("mix-player").src = result.files["mix.wav"];
    document.getElementById("download-drums").href = result.files["drums.wav"];
    document.getElementById("download-mix").href = result.files["mix.wav"];
    document.getElementById("download-midi").href = result.files["drums.mid"];
    document.getElementById("result-facts").textContent = `${result.filename}: ${result.duration_s} s, ` +
      `${result.num_beats} beats (${result.beat_source}), genre ${result.genre}, seed ${result.seed}: ` +
      `${result.num_hits} drum hits, written in ${result.seconds} s.`;
    document.getElementById("result-warnings").textContent = result.warnings.map((text) => `Note: ${text}`).join("\n");
    document.getElementById("model-licence").textContent = result.model_licence;
    document.getElementById("result").hidden = false;
    document.getElementById("status").textContent = "";
  } catch (error) {
    showError(error.message);
    document.getElementById("status").textContent = "";
  } finally {
    button.disabled = false;
  }
}

document.getElementById("generate").addEventListener("click", generate);
api("/api/info").then((info) => {
  state.maxUploadMb = info.max_upload_mb;
  const select = document.getElementById("genre");
  for (const genre of info.genres) {
    const option = new Option(genre === "unknown" ? "unknown (the model chooses)" : genre, genre);
    select.append(option);
  }
  select.value = "rock";
}).catch((error) => showError(error.message));
