"""``pipeline("drum-groove")``: drum grooves in MIDI from a style alone, or the continuation of a drum MIDI prompt.

    groove = pipeline("drum-groove")
    result = groove("funk", bars=8, bpm=100)                       # a new funk groove
    result = groove("my_groove.mid", bars=2)                        # 2 more bars of a drum part (its tempo, meter)
    result["midi"].write("groove.mid"); result["audio"] (with return_audio=True), result["sampling_rate"]
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import Any

import numpy as np
import pretty_midi
import torch

from ..data.windows import midi_downbeats
from ..genres import UNKNOWN_GENRE
from ..midi import drum_hits, load_midi
from ..render import render_midi
from .base import InferenceModePipeline

MIDI_SUFFIXES = (".mid", ".midi")
RENDER_RATE = 44100
"""Rate (Hz) of the FluidSynth render returned with ``return_audio=True``."""


def parse_time_signature(time_signature: str) -> int:
    """``"4/4"`` -> 4 beats per bar; ``"6/8"`` -> 2 (compound meters count dotted quarters, so ``bpm`` does too).

    Raises:
        ValueError: for anything else, naming the value and the forms that work.
    """
    try:
        numerator, denominator = (int(part) for part in str(time_signature).split("/"))
    except ValueError:
        raise ValueError(f"time_signature={time_signature!r} is not 'N/D'; give e.g. '4/4', '3/4' or '6/8'") from None
    if denominator in (2, 4) and 1 <= numerator <= 12:
        return numerator * 4 // denominator if denominator == 2 else numerator
    if denominator == 8 and numerator % 3 == 0 and numerator >= 6:
        return numerator // 3
    raise ValueError(f"time_signature={time_signature!r} is not supported; give N/4 (N = 1..12), N/2, or a compound "
                     "6/8, 9/8, 12/8 (for 5/8 or 7/8, write 5/4-like bars at double tempo)")


def _is_whole_number(value, minimum: int) -> bool:
    """``value`` is an integer (not a bool) >= ``minimum``."""
    return not isinstance(value, bool) and isinstance(value, numbers.Integral) and value >= minimum


class DrumGroovePipeline(InferenceModePipeline):
    """Grooves from a :class:`GrooveModel` checkpoint and its ``DrumTokenizer``.

    Input: a style name (``"funk"``; ``tokenizer.styles`` lists them) or a drum MIDI prompt (a path or a
    ``PrettyMIDI``) to continue. Options: ``bars`` (bars to generate, default 4), ``bpm`` (default: the prompt's
    tempo, or 120), ``time_signature`` (default: the prompt's, or ``"4/4"``), ``style`` (the style of a prompt;
    default ``unknown``), ``temperature`` (default the model's ``style_temperature`` for a new groove, 1 for a
    continuation), ``top_k``, ``top_p`` (default 0.95), ``do_sample`` (default True),
    ``seed``, ``consensus`` (instead of one take: draw ``num_samples`` sampled takes, default the model's
    ``consensus_samples``, and keep the hits most of them play: the continuation closest to the real next bars,
    see ``models/groove/consensus.py``), ``guidance_scale`` (classifier-free guidance on the style: > 1 plays the
    style more plainly; default the model's ``style_guidance_scale`` for a new groove, none for a continuation),
    ``adaptation_steps`` (prompt adaptation: Adam steps that fit a copy of the model to the prompt before it is
    continued, ``models/groove/adaptation.py``; default the model's ``adaptation_steps``, 0 = off), ``return_audio``
    (also render with FluidSynth at 44.1 kHz), ``drum_kit`` (GM kit for the render).

    Returns a dict: ``midi`` (``PrettyMIDI``: the prompt followed by the new bars, or the new groove),
    ``continuation_start`` (seconds where the generated bars begin), ``style``, ``bpm``, ``beats_per_bar``,
    and with ``return_audio``: ``audio`` (float32 mono) and ``sampling_rate``.
    """

    _load_processor = False
    _load_image_processor = False
    _load_video_processor = False
    _load_feature_extractor = False
    _load_tokenizer = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = self.model.float().eval()
        if self.tokenizer is None:
            raise ValueError("the drum-groove pipeline needs the checkpoint's DrumTokenizer; save it beside the model "
                             "or pass tokenizer=")

    def _sanitize_parameters(self, bars=None, bpm=None, time_signature=None, style=None, temperature=None,
                             top_k=None, top_p=None, do_sample=None, seed=None, return_audio=None, drum_kit=None,
                             consensus=None, num_samples=None, guidance_scale=None, adaptation_steps=None, **kwargs):
        if kwargs:
            raise TypeError(f"unknown drum-groove options {sorted(kwargs)}; see help(DrumGroovePipeline)")
        if bars is not None and (int(bars) != bars or bars < 1):
            raise ValueError(f"bars={bars!r}; give a whole number of bars >= 1")
        if consensus is not None and not isinstance(consensus, (bool, np.bool_)):
            raise ValueError(f"consensus={consensus!r}; give True (the hits most sampled takes play) or False")
        if num_samples is not None and not _is_whole_number(num_samples, minimum=1):
            raise ValueError(f"num_samples={num_samples!r}; give a whole number of takes >= 1 (with consensus=True)")
        if num_samples is not None and not consensus:
            raise ValueError("num_samples is the number of takes of consensus decoding; pass consensus=True with it")
        if consensus and do_sample is False:
            raise ValueError("consensus=True samples its takes; drop do_sample=False (or consensus for greedy)")
        if guidance_scale is not None and (isinstance(guidance_scale, bool)
                                           or not isinstance(guidance_scale, numbers.Real) or not guidance_scale > 0):
            raise ValueError(f"guidance_scale={guidance_scale!r}; give a number > 0 (1 = no guidance, 2-3 = a plainer "
                             "style)")
        if adaptation_steps is not None and not _is_whole_number(adaptation_steps, minimum=0):
            raise ValueError(f"adaptation_steps={adaptation_steps!r}; give a whole number of steps >= 0 (0 = off)")
        if bpm is not None and not 20 <= float(bpm) <= 400:
            raise ValueError(f"bpm={bpm!r} is outside 20..400 beats per minute")
        preprocess = {key: value for key, value in {"bpm": bpm, "time_signature": time_signature,
                                                    "style": style}.items() if value is not None}
        forward = {key: value for key, value in {"bars": bars, "temperature": temperature, "top_k": top_k,
                                                 "top_p": top_p, "do_sample": do_sample, "seed": seed,
                                                 "consensus": consensus, "num_samples": num_samples,
                                                 "guidance_scale": guidance_scale,
                                                 "adaptation_steps": adaptation_steps}.items()
                   if value is not None}
        postprocess = {key: value for key, value in {"return_audio": return_audio, "drum_kit": drum_kit}.items()
                       if value is not None}
        return preprocess, forward, postprocess

    def preprocess(self, inputs, bpm=None, time_signature=None, style=None):
        is_midi = isinstance(inputs, pretty_midi.PrettyMIDI) or (
            isinstance(inputs, (str, os.PathLike)) and (Path(inputs).suffix.lower() in MIDI_SUFFIXES
                                                        or Path(inputs).is_file()))
        if not is_midi:  # a style alone
            if style is not None:
                raise ValueError("give the style as the input (groove('funk')) or with a prompt MIDI, not both")
            style_name = str(inputs).strip().lower()
            if style_name not in self.tokenizer.styles:
                raise ValueError(f"unknown style {inputs!r}; choose one of {', '.join(self.tokenizer.styles)}, or give "
                                 "a drum MIDI file (.mid) to continue")
            meter = parse_time_signature(time_signature or "4/4")
            words = self.model.style_prompt([self.tokenizer.style_id(style_name)])
            return {"words": words, "bpm": float(bpm or 120.0), "beats_per_bar": meter, "prompt_bars": 0,
                    "style": style_name, "prompt": None}

        # A prompt: its drums from the first bar line to the bar line closing its last hit.
        midi = load_midi(inputs) if not isinstance(inputs, pretty_midi.PrettyMIDI) else inputs
        hits = drum_hits(midi)  # raises a clear error for MIDI without drums
        if len(hits) == 0:
            raise ValueError("the prompt MIDI has a drum track but no drum hits; give a drum part to continue")
        if time_signature is None:
            signatures = midi.time_signature_changes
            time_signature = f"{signatures[0].numerator}/{signatures[0].denominator}" if signatures else "4/4"
        meter = parse_time_signature(time_signature)
        if bpm is None:
            _, tempi = midi.get_tempo_changes()
            bpm = float(tempi[0]) if len(tempi) else 120.0
        lines = midi_downbeats(midi)
        end = float(lines[np.searchsorted(lines, hits.times.max(), side="right")]) if hits.times.max() < lines[-1] \
            else float(lines[-1])
        start = float(lines[0])
        prompt_bars = int(np.sum((lines > start + 1e-6) & (lines <= end + 1e-6)))
        style_name = UNKNOWN_GENRE if style is None else str(style).strip().lower()
        ids = self.tokenizer.encode_midi(midi, style=style_name, start_time=start, end_time=end)[:-1]  # no <eos>
        return {"words": torch.as_tensor(self.tokenizer.ids_to_words(ids))[None], "bpm": float(bpm),
                "beats_per_bar": meter, "prompt_bars": prompt_bars, "style": style_name, "prompt": (start, end)}

    def _forward(self, model_inputs, bars=4, temperature=None, top_k=0, top_p=0.95, do_sample=True, seed=None,
                 consensus=False, num_samples=None, guidance_scale=None, adaptation_steps=None):
        bar_ticks = model_inputs["beats_per_bar"] * self.tokenizer.ticks_per_beat
        options = dict(bpm=model_inputs["bpm"], beats_per_bar=model_inputs["beats_per_bar"], max_bars=int(bars),
                       prompt_ticks=model_inputs["prompt_bars"] * bar_ticks, top_k=top_k, top_p=top_p, seed=seed,
                       max_new_words=64 * int(bars) * model_inputs["beats_per_bar"], guidance_scale=guidance_scale,
                       adaptation_steps=adaptation_steps)
        # temperature / guidance_scale None: the model's defaults (consensus_temperature; style_temperature and
        # style_guidance_scale for a new groove from a style alone)
        if consensus:
            output = self.model.generate_consensus(model_inputs["words"], num_samples=num_samples,
                                                   temperature=temperature, **options)
        else:
            output = self.model.generate(model_inputs["words"], do_sample=do_sample, temperature=temperature,
                                         **options)
        return {"words": output.words[0], **{key: value for key, value in model_inputs.items() if key != "words"}}

    def postprocess(self, model_outputs, return_audio=False, drum_kit=None) -> dict[str, Any]:
        ids = self.tokenizer.words_to_ids(model_outputs["words"].cpu().numpy())
        decoded = self.tokenizer.decode_tokens(ids, bpm=model_outputs["bpm"])
        midi = decoded.midi
        midi.time_signature_changes = [pretty_midi.TimeSignature(model_outputs["beats_per_bar"], 4, 0.0)]
        seconds_per_bar = 60.0 / model_outputs["bpm"] * model_outputs["beats_per_bar"]
        result = {"midi": midi, "continuation_start": model_outputs["prompt_bars"] * seconds_per_bar,
                  "style": model_outputs["style"], "bpm": model_outputs["bpm"],
                  "beats_per_bar": model_outputs["beats_per_bar"]}
        if return_audio:
            result["audio"] = render_midi(midi, RENDER_RATE, drum_kit=drum_kit)
            result["sampling_rate"] = RENDER_RATE
        return result


__all__ = ["DrumGroovePipeline", "parse_time_signature"]
