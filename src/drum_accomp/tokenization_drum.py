"""DrumTokenizer: drum MIDI <-> compound words ``<dt, instrument, velocity>`` with a STYLE token first.

A drum performance becomes ``<bos> <STYLE=funk> w_1 w_2 ... w_n <eos>`` where every word ``w`` is three tokens
in a fixed order:

* ``dt_k``   ticks since the previous word, ``0 <= k <= max_dt``. Time is tempo-relative: a note's position in
  beats comes from the MIDI's own tempo map (note times interpolated over ``midi.get_beats()``, extrapolated past
  the ends), quantized to ``ticks_per_beat`` ticks per beat. Absolute positions are quantized first and
  differenced after, so rounding errors never accumulate along a sequence.
* ``inst_<class>`` one of the 9 pinned GMD drum classes (``midi.DRUM_CLASSES``), or ``inst_shift``: a time-shift
  word that only advances time by its ``dt``. A gap longer than ``max_dt`` is written as shift words of
  ``max_dt`` ticks followed by the hit word with the remainder.
* ``vel_b``  velocity bin ``b`` of ``num_velocity_bins`` equal bins over 1..127; decoded to the bin centre. A
  shift word carries ``vel_0``, which decoding ignores.

One flat vocabulary holds one id range per field, after the special tokens::

    0 <pad>  1 <bos>  2 <eos>  3 <bar>  4.. <STYLE=name> (genres.style_vocabulary())  | dt_* | inst_* | vel_*

so ids ``0 .. num_special_tokens - 1`` are the specials (STYLE tokens included). For models that embed each field
separately, :meth:`DrumTokenizer.ids_to_words` turns a flat sequence into a ``(num_words, 3)`` array of per-field
indices: field values are shifted by ``num_special_tokens`` (index ``num_special_tokens + k`` means ``dt_k``,
``inst`` class ``k``, velocity bin ``k``), and a special token ``s`` is a word of its own, ``(s, s, s)``.
``field_sizes`` gives each field's embedding size.

``<bar>`` markers (``add_bar_tokens=True``, off by default) are placed before the first word at or after each
downbeat; they carry no time.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pretty_midi
from transformers import PreTrainedTokenizer
from transformers.tokenization_utils_base import BatchEncoding, PaddingStrategy, TruncationStrategy

from .genres import style_vocabulary, validate_genre
from .midi import DRUM_CLASSES, NUM_DRUM_CLASSES, DrumHits, as_midi, drum_hits

PAD_TOKEN = "<pad>"
BOS_TOKEN = "<bos>"
EOS_TOKEN = "<eos>"
BAR_TOKEN = "<bar>"
SHIFT_NAME = "shift"
MIDI_SUFFIXES = (".mid", ".midi", ".kar")
VOCAB_FILES_NAMES = {"vocab_file": "vocab.json"}

# Field order inside a word.
DT_FIELD, INSTRUMENT_FIELD, VELOCITY_FIELD = 0, 1, 2
FIELD_NAMES: tuple[str, ...] = ("dt", "instrument", "velocity")


def style_token(name: str) -> str:
    """``"funk"`` -> ``"<STYLE=funk>"``."""
    return f"<STYLE={name}>"


@dataclass
class DrumDecodeOutput:
    """What :meth:`DrumTokenizer.decode_tokens` recovered from an id sequence.

    Attributes:
        midi: one drum track (channel 10), each hit a short note on its class's first GM pitch.
        hits: the decoded hits (seconds, class indices, velocities), in token order.
        ticks: ``(num_hits,)`` int64 onset positions in ticks from the start (``ticks_per_beat`` per beat).
        style: the first STYLE token's name, or ``None`` when there was none.
        num_shift_words: complete time-shift words applied.
        num_invalid_words: malformed words skipped: each interrupted partial word, each field token out of place
            and each id outside the vocabulary counts once.
        num_invalid_tokens: tokens those skipped words held.
        stopped_at_eos: decoding stopped at an ``<eos>``; tokens after it were not read.
    """

    midi: pretty_midi.PrettyMIDI
    hits: DrumHits
    ticks: np.ndarray
    style: str | None
    num_shift_words: int
    num_invalid_words: int
    num_invalid_tokens: int
    stopped_at_eos: bool

    @property
    def num_hits(self) -> int:
        return len(self.hits)


def _is_midi_input(value: Any) -> bool:
    """A loaded ``PrettyMIDI``, a path object, or a string naming a ``.mid``/``.midi``/``.kar`` file."""
    if isinstance(value, (pretty_midi.PrettyMIDI, os.PathLike)):
        return True
    return isinstance(value, str) and value.lower().endswith(MIDI_SUFFIXES)


def _beat_grid(beat_times: np.ndarray, seconds_per_beat: float) -> np.ndarray:
    """Beat times (seconds) with at least two entries, so positions can be extrapolated past the ends."""
    beat_times = np.asarray(beat_times, dtype=np.float64).reshape(-1)
    if beat_times.size == 0:
        return np.array([0.0, seconds_per_beat])
    if beat_times.size == 1:
        return np.array([beat_times[0], beat_times[0] + seconds_per_beat])
    return beat_times


def times_to_beats(times: np.ndarray, beat_times: np.ndarray) -> np.ndarray:
    """Positions in beats of ``times`` (seconds), linear between beats and extrapolated past both ends.

    Args:
        times: ``(n,)`` seconds.
        beat_times: ``(num_beats,)`` increasing beat times in seconds, ``num_beats >= 2``.
    Returns:
        ``(n,)`` float64 beat positions (beat ``i`` is at ``beat_times[i]``).
    """
    times = np.asarray(times, dtype=np.float64)
    indices = np.arange(len(beat_times), dtype=np.float64)
    positions = np.interp(times, beat_times, indices)
    before, after = times < beat_times[0], times > beat_times[-1]
    positions[before] = (times[before] - beat_times[0]) / (beat_times[1] - beat_times[0])
    positions[after] = indices[-1] + (times[after] - beat_times[-1]) / (beat_times[-1] - beat_times[-2])
    return positions


def beats_to_times(positions: np.ndarray, beat_times: np.ndarray) -> np.ndarray:
    """Inverse of :func:`times_to_beats`: seconds of beat ``positions`` on the grid ``beat_times``."""
    positions = np.asarray(positions, dtype=np.float64)
    indices = np.arange(len(beat_times), dtype=np.float64)
    times = np.interp(positions, indices, beat_times)
    before, after = positions < 0, positions > indices[-1]
    times[before] = beat_times[0] + positions[before] * (beat_times[1] - beat_times[0])
    times[after] = beat_times[-1] + (positions[after] - indices[-1]) * (beat_times[-1] - beat_times[-2])
    return times


class DrumTokenizer(PreTrainedTokenizer):
    """Compound-word drum tokenizer (see the module docstring for the token layout).

    Args:
        ticks_per_beat (`int`, defaults to 192): time resolution. The onset error is at most half a tick,
            ``0.15625 / beats_per_minute`` s: 3.1 ms at 50 BPM, GMD's slowest tempo, and <= 5 ms down to 31 BPM.
            Beats are pretty_midi's, so in compound meters (6/8) a beat is a dotted quarter (GMD's 6/8 at
            quarter = 60 has 40 beats a minute: 3.9 ms).
        max_dt (`int`, *optional*, defaults to ``ticks_per_beat``): largest ``dt`` of one word, in ticks; longer
            gaps use time-shift words.
        num_velocity_bins (`int`, defaults to 32): equal-width velocity bins over MIDI velocities 1..127 (32 bins
            decode with an error <= 2).
        add_bar_tokens (`bool`, defaults to `False`): put a ``<bar>`` marker at each downbeat.
        styles (`list[str]`, *optional*, defaults to ``genres.style_vocabulary()``): the STYLE token names. Saved
            with the tokenizer, so a saved vocabulary keeps its ids when ``genres.json`` later grows.
        note_duration (`float`, defaults to 0.1): length in seconds of the notes :meth:`decode_midi` writes.

    ``encode``/``__call__`` on a MIDI path or ``PrettyMIDI`` (or a list of them) run :meth:`encode_midi`; pass
    ``style=`` (one name, or one per file). On a string that is not a MIDI path they read space-separated token
    strings (``"<bos> dt_0 inst_kick vel_20"``), and ``decode`` returns such a string; :meth:`decode_midi` turns
    ids back into MIDI.
    """

    vocab_files_names = VOCAB_FILES_NAMES
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        ticks_per_beat: int = 192,
        max_dt: int | None = None,
        num_velocity_bins: int = 32,
        add_bar_tokens: bool = False,
        styles: Sequence[str] | None = None,
        note_duration: float = 0.1,
        vocab_file: str | None = None,
        **kwargs,
    ):
        # 1. Validate the configuration.
        max_dt = int(ticks_per_beat if max_dt is None else max_dt)
        if int(ticks_per_beat) < 1:
            raise ValueError(f"ticks_per_beat must be >= 1, got {ticks_per_beat}; 192 is the default")
        if max_dt < 1:
            raise ValueError(f"max_dt must be >= 1 tick, got {max_dt}; leave it unset for one beat")
        if not 1 <= int(num_velocity_bins) <= 127:
            raise ValueError(f"num_velocity_bins must be in 1..127, got {num_velocity_bins}; 32 is the default")
        if not note_duration > 0:
            raise ValueError(f"note_duration must be > 0 seconds, got {note_duration}")
        styles = list(style_vocabulary() if styles is None else styles)
        if len(set(styles)) != len(styles) or not styles:
            raise ValueError(f"styles must be a non-empty list of distinct names, got {styles}")
        self.ticks_per_beat = int(ticks_per_beat)
        self.max_dt = max_dt
        self.num_velocity_bins = int(num_velocity_bins)
        self.add_bar_tokens = bool(add_bar_tokens)
        self.styles = styles
        self.note_duration = float(note_duration)

        # 2. Build the flat vocabulary: specials (STYLE tokens included), then one range per field.
        specials = [PAD_TOKEN, BOS_TOKEN, EOS_TOKEN, BAR_TOKEN] + [style_token(name) for name in styles]
        field_tokens = (
            [f"dt_{ticks}" for ticks in range(self.max_dt + 1)],
            [f"inst_{name}" for name in DRUM_CLASSES] + [f"inst_{SHIFT_NAME}"],
            [f"vel_{index}" for index in range(self.num_velocity_bins)],
        )
        self._id_to_token: list[str] = specials + [token for tokens in field_tokens for token in tokens]
        self._token_to_id: dict[str, int] = {token: index for index, token in enumerate(self._id_to_token)}
        self.num_special_tokens = len(specials)
        offsets, start = [], len(specials)
        for tokens in field_tokens:
            offsets.append(start)
            start += len(tokens)
        self.field_offsets: tuple[int, ...] = tuple(offsets)
        self.field_value_counts: tuple[int, ...] = tuple(len(tokens) for tokens in field_tokens)
        self.shift_instrument = NUM_DRUM_CLASSES
        self._style_ids = {name: self._token_to_id[style_token(name)] for name in styles}

        # Velocity bins: bin = floor((v - 1) * bins / 127); a bin decodes to the middle of the velocities it holds.
        velocities = np.arange(1, 128)
        bins = (velocities - 1) * self.num_velocity_bins // 127
        self._bin_centres = np.array(
            [int(round((velocities[bins == b].min() + velocities[bins == b].max()) / 2))
             for b in range(self.num_velocity_bins)], dtype=np.int64,
        )

        if vocab_file is not None:
            self._check_vocab_file(vocab_file)

        # 3. The special tokens are fixed by the layout; refuse conflicting ones instead of silently ignoring them.
        fixed = {"pad_token": PAD_TOKEN, "bos_token": BOS_TOKEN, "eos_token": EOS_TOKEN}
        for key, value in fixed.items():
            given = kwargs.pop(key, None)
            if given is not None and str(given) != value:
                raise ValueError(f"{key} is fixed to {value!r} by the DrumTokenizer layout, got {str(given)!r}; "
                                 "drop the argument")
        kwargs.pop("additional_special_tokens", None)
        kwargs.pop("extra_special_tokens", None)
        super().__init__(
            ticks_per_beat=self.ticks_per_beat, max_dt=self.max_dt, num_velocity_bins=self.num_velocity_bins,
            add_bar_tokens=self.add_bar_tokens, styles=list(styles), note_duration=self.note_duration,
            extra_special_tokens=specials[3:], **fixed, **kwargs,
        )

    # ----- vocabulary layout -----------------------------------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        return len(self._id_to_token)

    def get_vocab(self) -> dict[str, int]:
        vocab = dict(self._token_to_id)
        vocab.update(self.added_tokens_encoder)
        return vocab

    @property
    def field_sizes(self) -> tuple[int, int, int]:
        """Embedding size per field ``(dt, instrument, velocity)``: the specials plus the field's values."""
        return tuple(self.num_special_tokens + count for count in self.field_value_counts)

    @property
    def field_ranges(self) -> dict[str, range]:
        """Flat id range of each field's value tokens: ``{"dt": range(S, S + max_dt + 1), "instrument": ...}`` with
        ``S = num_special_tokens``; the instrument range holds the 9 classes then ``inst_shift``."""
        return {name: range(offset, offset + count)
                for name, offset, count in zip(FIELD_NAMES, self.field_offsets, self.field_value_counts)}

    @property
    def bar_token_id(self) -> int:
        return self._token_to_id[BAR_TOKEN]

    def style_id(self, name: str) -> int:
        """Flat id of the STYLE token for ``name`` (subgenres such as ``"funk/purdieshuffle"`` -> ``funk``)."""
        return self._style_ids[self._resolve_style(name)]

    def _resolve_style(self, style: str | None) -> str:
        """Validate a (sub)style through ``genres`` and return the name of its STYLE token."""
        if style is None:
            name = validate_genre(None)
        else:
            if not isinstance(style, str):
                raise ValueError(f"style must be a genre name, got {type(style).__name__} {style!r}; "
                                 f"pass one of {', '.join(self.styles)}")
            top = style.strip().lower().split("/")[0]
            name = validate_genre(top)
        if name not in self._style_ids:
            raise ValueError(f"style {style!r} has no STYLE token in this tokenizer (saved with styles "
                             f"{', '.join(self.styles)}); pass one of those")
        return name

    def field_of(self, token_id: int) -> int:
        """Field of a flat id: ``DT_FIELD``, ``INSTRUMENT_FIELD``, ``VELOCITY_FIELD``; -1 special, -2 out of range."""
        if 0 <= token_id < self.num_special_tokens:
            return -1
        for field, (offset, count) in enumerate(zip(self.field_offsets, self.field_value_counts)):
            if offset <= token_id < offset + count:
                return field
        return -2

    # ----- standard tokenizer plumbing ---------------------------------------------------------------------------

    def _tokenize(self, text: str, **kwargs) -> list[str]:
        return text.split()

    def _convert_token_to_id(self, token: str) -> int:
        if token not in self._token_to_id:
            raise ValueError(f"unknown drum token {token!r}; tokens look like 'dt_12', 'inst_kick', 'vel_20', "
                             "'<STYLE=funk>' (see tokenizer.get_vocab())")
        return self._token_to_id[token]

    def _convert_id_to_token(self, index: int) -> str:
        if 0 <= index < len(self._id_to_token):
            return self._id_to_token[index]
        return f"<invalid:{index}>"  # model samples may hold any id; show it rather than crash

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        return " ".join(tokens)

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str, ...]:
        """Write ``vocab.json`` (token -> id). The vocabulary follows from the config; the file is for reading and
        is checked against the config on load."""
        if not os.path.isdir(save_directory):
            raise ValueError(f"save_vocabulary needs an existing directory, got {save_directory!r}; create it first")
        path = os.path.join(save_directory, (f"{filename_prefix}-" if filename_prefix else "") + "vocab.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self._token_to_id, handle, indent=1, ensure_ascii=False)
            handle.write("\n")
        return (path,)

    def _check_vocab_file(self, vocab_file: str) -> None:
        with open(vocab_file, encoding="utf-8") as handle:
            saved = json.load(handle)
        if saved != self._token_to_id:
            raise ValueError(f"{vocab_file} does not match the vocabulary built from the tokenizer config "
                             "(ticks_per_beat, max_dt, num_velocity_bins, styles); re-save the tokenizer or fix "
                             "tokenizer_config.json")

    # ----- MIDI -> ids ----------------------------------------------------------------------------------------

    def midi_ticks(self, midi: "str | os.PathLike | pretty_midi.PrettyMIDI", times: np.ndarray) -> np.ndarray:
        """Quantized positions in ticks of ``times`` (seconds) on the MIDI's own tempo map.

        Returns:
            ``(n,)`` int64 ticks, ``ticks_per_beat`` per beat, >= 0.
        """
        midi = as_midi(midi)
        beats = _beat_grid(midi.get_beats(), 60.0 / float(midi.get_tempo_changes()[1][0]))
        positions = times_to_beats(np.asarray(times, dtype=np.float64), beats)
        return np.maximum(np.rint(positions * self.ticks_per_beat), 0).astype(np.int64)

    def quantized_hits(self, midi: "str | os.PathLike | pretty_midi.PrettyMIDI") -> tuple[DrumHits, np.ndarray]:
        """The MIDI's drum hits in word order, with their quantized positions.

        Word order is by tick, then class; equal (tick, class) keep their time order. The hits keep their original
        times and velocities, so a decoded sequence can be compared hit by hit with what was encoded.

        Returns:
            ``(hits, ticks)``: ``DrumHits`` with ``num_hits`` entries and ``(num_hits,)`` int64 ticks.
        Raises:
            ValueError: when the file has no drum notes.
        """
        midi = as_midi(midi)
        hits = drum_hits(midi)
        ticks = self.midi_ticks(midi, hits.times)
        order = np.argsort(ticks * (NUM_DRUM_CLASSES + 1) + hits.classes, kind="stable")
        ordered = DrumHits(times=hits.times[order], classes=hits.classes[order], velocities=hits.velocities[order],
                           num_unmapped=hits.num_unmapped)
        return ordered, ticks[order]

    def encode_midi(
        self,
        midi: "str | os.PathLike | pretty_midi.PrettyMIDI",
        style: str | None = "unknown",
        add_special_tokens: bool = True,
        start_time: float | None = None,
        end_time: float | None = None,
    ) -> list[int]:
        """Drum MIDI -> ``<bos> <STYLE=style> words... <eos>`` (words only when ``add_special_tokens`` is False).

        Args:
            midi: path or loaded ``PrettyMIDI`` with a drum track (channel 10).
            style: GMD style or subgenre (``"funk/purdieshuffle"`` -> ``<STYLE=funk>``); ``None`` -> unknown.
            start_time, end_time: encode only hits with ``start_time <= time < end_time`` (seconds), with time
                counted from ``start_time`` (a training window; start it on a bar line to keep beat positions).
        Raises:
            ValueError: when the file has no drum notes, or the style is unknown.
        """
        style_name = self._resolve_style(style)
        midi = as_midi(midi)
        hits, ticks = self.quantized_hits(midi)
        bar_ticks = self.midi_ticks(midi, midi.get_downbeats()) if self.add_bar_tokens else np.zeros(0, np.int64)
        if start_time is not None or end_time is not None:
            start = 0.0 if start_time is None else float(start_time)
            end = np.inf if end_time is None else float(end_time)
            keep = (hits.times >= start) & (hits.times < end)
            origin = int(self.midi_ticks(midi, np.array([start]))[0])
            hits = DrumHits(hits.times[keep], hits.classes[keep], hits.velocities[keep])
            ticks = np.maximum(ticks[keep] - origin, 0)
            end_tick = np.inf if end_time is None else self.midi_ticks(midi, np.array([end]))[0] - origin
            bar_ticks = bar_ticks - origin
            bar_ticks = bar_ticks[(bar_ticks >= 0) & (bar_ticks < end_tick)]
        return self._encode_ticks(ticks, hits.classes, hits.velocities, bar_ticks, style_name, add_special_tokens)

    def encode_hits(
        self,
        hits: DrumHits,
        beat_times: np.ndarray,
        style: str | None = "unknown",
        add_special_tokens: bool = True,
        downbeat_times: np.ndarray | None = None,
    ) -> list[int]:
        """Drum hits on a given beat grid (e.g. tracked beats of a stem folder) -> ids, as :meth:`encode_midi`.

        Args:
            hits: drum onsets (seconds); time is counted from ``beat_times[0]``, so start the grid on a bar line.
            beat_times: ``(num_beats,)`` increasing beat times in seconds (extrapolated past both ends).
            downbeat_times: bar starts for ``<bar>`` markers (used only with ``add_bar_tokens``).
        """
        style_name = self._resolve_style(style)
        grid = _beat_grid(beat_times, 0.5)
        to_ticks = lambda times: np.rint(times_to_beats(times, grid) * self.ticks_per_beat).astype(np.int64)  # noqa: E731
        ticks = np.maximum(to_ticks(hits.times), 0)
        order = np.argsort(ticks * (NUM_DRUM_CLASSES + 1) + hits.classes, kind="stable")
        bar_ticks = np.zeros(0, np.int64)
        if self.add_bar_tokens and downbeat_times is not None:
            bar_ticks = to_ticks(np.asarray(downbeat_times, dtype=np.float64))
            bar_ticks = bar_ticks[bar_ticks >= 0]
        return self._encode_ticks(ticks[order], hits.classes[order], hits.velocities[order], bar_ticks, style_name,
                                  add_special_tokens)

    def _encode_ticks(
        self, ticks: np.ndarray, classes: np.ndarray, velocities: np.ndarray, bar_ticks: np.ndarray, style_name: str,
        add_special_tokens: bool,
    ) -> list[int]:
        """Hits in word order (``ticks`` non-decreasing) -> flat ids, with shift words for gaps over ``max_dt``."""
        velocity_bins = self.velocity_to_bin(velocities)
        dt_offset, instrument_offset, velocity_offset = self.field_offsets
        shift_word = [dt_offset + self.max_dt, instrument_offset + self.shift_instrument, velocity_offset]
        ids = [self.bos_token_id, self._style_ids[style_name]] if add_special_tokens else []
        position, bar_index = 0, 0
        for tick, class_index, velocity_bin in zip(ticks.tolist(), classes.tolist(), velocity_bins.tolist()):
            gap = tick - position
            num_shifts = max(0, (gap - 1) // self.max_dt)
            for _ in range(num_shifts):
                position += self.max_dt
                while bar_index < len(bar_ticks) and bar_ticks[bar_index] <= position:
                    ids.append(self.bar_token_id)
                    bar_index += 1
                ids.extend(shift_word)
            while bar_index < len(bar_ticks) and bar_ticks[bar_index] <= tick:
                ids.append(self.bar_token_id)
                bar_index += 1
            ids.extend((dt_offset + tick - position, instrument_offset + class_index, velocity_offset + velocity_bin))
            position = tick
        if add_special_tokens:
            ids.append(self.eos_token_id)
        return ids

    def velocity_to_bin(self, velocities: np.ndarray) -> np.ndarray:
        """MIDI velocities (clipped to 1..127) -> bin indices ``0 .. num_velocity_bins - 1``."""
        velocities = np.clip(np.asarray(velocities, dtype=np.int64), 1, 127)
        return (velocities - 1) * self.num_velocity_bins // 127

    def bin_to_velocity(self, bins: np.ndarray) -> np.ndarray:
        """Bin indices -> the velocity at each bin's centre."""
        return self._bin_centres[np.asarray(bins, dtype=np.int64)]

    # ----- HF encode / __call__ on MIDI -----------------------------------------------------------------------

    def __call__(
        self, text=None, *args, midi=None, style: "str | Sequence[str] | None" = None, **kwargs,
    ) -> BatchEncoding:
        """Tokenize MIDI (``midi=`` or a MIDI path / ``PrettyMIDI`` / list of them as ``text``) or token strings.

        ``style`` is one name for all files or one per file. Returns a ``BatchEncoding`` with ``input_ids`` and
        ``attention_mask``; padding, truncation and ``return_tensors`` work as for any tokenizer (truncation cuts
        at a token, so prefer ``max_length`` multiples of 3 plus the specials, or slice words instead).
        """
        if midi is not None:
            if text is not None:
                raise ValueError("pass the MIDI either as midi= or as the first argument, not both")
            text = midi
        if style is not None:
            kwargs["style"] = style
        return super().__call__(text, *args, **kwargs)

    def _encode_plus(
        self,
        text,
        text_pair=None,
        add_special_tokens: bool = True,
        padding_strategy: PaddingStrategy = PaddingStrategy.DO_NOT_PAD,
        truncation_strategy: TruncationStrategy = TruncationStrategy.DO_NOT_TRUNCATE,
        max_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors=None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_length: bool = False,
        verbose: bool = True,
        **kwargs,
    ) -> BatchEncoding:
        style = kwargs.pop("style", None)
        is_batch = isinstance(text, (list, tuple)) and len(text) > 0 and all(_is_midi_input(item) for item in text)
        if not (is_batch or _is_midi_input(text)):
            if style is not None:
                raise ValueError("style= applies to MIDI input only; got a text/token input. Pass a MIDI path, a "
                                 "PrettyMIDI or a list of them")
            return super()._encode_plus(
                text, text_pair=text_pair, add_special_tokens=add_special_tokens, padding_strategy=padding_strategy,
                truncation_strategy=truncation_strategy, max_length=max_length, stride=stride,
                is_split_into_words=is_split_into_words, pad_to_multiple_of=pad_to_multiple_of,
                padding_side=padding_side, return_tensors=return_tensors, return_token_type_ids=return_token_type_ids,
                return_attention_mask=return_attention_mask, return_overflowing_tokens=return_overflowing_tokens,
                return_special_tokens_mask=return_special_tokens_mask, return_length=return_length, verbose=verbose,
                **kwargs,
            )
        if text_pair is not None:
            raise ValueError("DrumTokenizer encodes one MIDI per sequence; text_pair is not supported for MIDI")
        midis = list(text) if is_batch else [text]
        styles = list(style) if isinstance(style, (list, tuple)) else [style] * len(midis)
        if len(styles) != len(midis):
            raise ValueError(f"got {len(styles)} styles for {len(midis)} MIDI files; pass one style or one per file")

        # 1. Encode and truncate each file, without padding.
        outputs = []
        for item, item_style in zip(midis, styles):
            ids = self.encode_midi(item, style=item_style, add_special_tokens=add_special_tokens)
            encoded = self.prepare_for_model(
                ids, add_special_tokens=False, padding=PaddingStrategy.DO_NOT_PAD.value,
                truncation=truncation_strategy.value, max_length=max_length, stride=stride,
                return_token_type_ids=return_token_type_ids, return_attention_mask=False,
                return_overflowing_tokens=return_overflowing_tokens, return_length=return_length, verbose=verbose,
            )
            if return_special_tokens_mask:
                encoded["special_tokens_mask"] = [int(i < self.num_special_tokens) for i in encoded["input_ids"]]
            outputs.append(dict(encoded))
        # 2. Pad (the batch, or the single sequence) and convert to tensors.
        if is_batch:
            batch: dict[str, list] = {}
            for encoded in outputs:
                for key, value in encoded.items():
                    batch.setdefault(key, []).append(value)
            encoded_inputs = batch
        else:
            encoded_inputs = outputs[0]
        if return_tensors is not None:
            encoded_inputs.pop("overflowing_tokens", None)
            encoded_inputs.pop("num_truncated_tokens", None)
        encoded_inputs = self.pad(
            encoded_inputs, padding=padding_strategy.value, max_length=max_length,
            pad_to_multiple_of=pad_to_multiple_of, padding_side=padding_side,
            return_attention_mask=return_attention_mask,
        )
        return BatchEncoding(encoded_inputs, tensor_type=return_tensors, prepend_batch_axis=not is_batch)

    # ----- flat ids <-> per-field words ------------------------------------------------------------------------

    def ids_to_words(self, ids: "Sequence[int] | np.ndarray") -> np.ndarray:
        """Flat ids -> ``(num_words, 3)`` int64 per-field indices (see the module docstring).

        A field value ``k`` becomes ``num_special_tokens + k``; a special token ``s`` becomes the word
        ``(s, s, s)``. The input must be well formed (as :meth:`encode_midi` makes it); use
        :meth:`decode_tokens` for model samples.

        Raises:
            ValueError: naming the position of a token out of place, an unknown id, or a truncated word.
        """
        ids = np.asarray(ids, dtype=np.int64).reshape(-1).tolist()
        words, position = [], 0
        special = self.num_special_tokens
        while position < len(ids):
            token = ids[position]
            if 0 <= token < special:
                words.append((token, token, token))
                position += 1
                continue
            chunk = ids[position:position + 3]
            fields = [self.field_of(value) for value in chunk]
            if fields != [DT_FIELD, INSTRUMENT_FIELD, VELOCITY_FIELD]:
                raise ValueError(f"ids[{position}:{position + 3}] = {chunk} is not a <dt, instrument, velocity> "
                                 f"word ({[self._convert_id_to_token(v) for v in chunk]}); pass well-formed ids or "
                                 "use decode_tokens, which skips bad words")
            words.append(tuple(special + value - offset for value, offset in zip(chunk, self.field_offsets)))
            position += 3
        return np.array(words, dtype=np.int64).reshape(-1, 3)

    def words_to_ids(self, words: "np.ndarray | Sequence[Sequence[int]]") -> list[int]:
        """Inverse of :meth:`ids_to_words`: ``(num_words, 3)`` per-field indices -> flat ids.

        Raises:
            ValueError: for a row that is neither ``(s, s, s)`` with ``s`` special nor three field values in range.
        """
        words = np.asarray(words, dtype=np.int64).reshape(-1, 3)
        ids = []
        for row, word in enumerate(words.tolist()):
            flat = self._word_to_flat(word)
            if flat is None:
                raise ValueError(f"words[{row}] = {word} is not a word: expected (s, s, s) with s < "
                                 f"{self.num_special_tokens} or field indices in [{self.num_special_tokens}, "
                                 f"{list(self.field_sizes)}); check the model's per-field heads")
            ids.extend(flat)
        return ids

    def _word_to_flat(self, word: list[int]) -> list[int] | None:
        special = self.num_special_tokens
        if word[0] == word[1] == word[2] and 0 <= word[0] < special:
            return [word[0]]
        if all(special <= value < size for value, size in zip(word, self.field_sizes)):
            return [offset + value - special for value, offset in zip(word, self.field_offsets)]
        return None

    def word_ticks(self, words: "np.ndarray | Sequence[Sequence[int]]") -> np.ndarray:
        """Running position in ticks of each word of a ``(num_words, 3)`` array (after its own ``dt``).

        Special words take the position of the word before them. Divide by ``ticks_per_beat`` for beats, take
        ``% ticks_per_beat`` for the position inside the beat. Out-of-range dt indices count as 0.

        Returns:
            ``(num_words,)`` int64.
        """
        words = np.asarray(words, dtype=np.int64).reshape(-1, 3)
        dt = words[:, DT_FIELD] - self.num_special_tokens
        dt = np.where((dt >= 0) & (dt <= self.max_dt), dt, 0)
        return np.cumsum(dt)

    def word_beats(self, words: "np.ndarray | Sequence[Sequence[int]]") -> np.ndarray:
        """:meth:`word_ticks` in beats, ``(num_words,)`` float64."""
        return self.word_ticks(words) / self.ticks_per_beat

    # ----- ids -> MIDI -----------------------------------------------------------------------------------------

    def decode_tokens(
        self,
        ids: "Sequence[int] | np.ndarray | Any",
        bpm: float = 120.0,
        beat_times: "np.ndarray | Sequence[float] | None" = None,
        stop_at_eos: bool = True,
    ) -> DrumDecodeOutput:
        """Decode any id sequence a model may sample; never raises on bad ids, skips and counts them.

        Args:
            ids: flat ids ``(seq_len,)`` (list, numpy array or tensor; a leading batch axis of 1 is fine, so a
                ``(1, 3)`` array is read as three flat ids), or a ``(num_words, 3)`` array of per-field indices
                (a row that is no word counts as invalid).
            bpm: beats per minute when ``beat_times`` is not given (beat ``b`` at ``b * 60 / bpm`` s); a beat is
                a pretty_midi beat of the encoded file (a dotted quarter in 6/8).
            beat_times: beat times in seconds to place beats on (e.g. the backing track's beats); positions past
                the last beat are extrapolated with the last beat interval.
            stop_at_eos: stop at the first ``<eos>``.
        Rules: ``<pad>`` is ignored; ``<bos>``, ``<bar>`` and STYLE tokens are markers (the first STYLE names the
        output's style); a word is a dt, instrument and velocity token in that order, anything else is skipped.
        """
        flat = self._as_flat_ids(ids)
        style_names = {token_id: name for name, token_id in self._style_ids.items()}
        ticks, classes, bins = [], [], []
        pending: list[int] = []  # field values of the word being read
        position = num_shifts = num_invalid_words = num_invalid_tokens = 0
        style, stopped = None, False
        for token in flat:
            field = self.field_of(token) if token is not None else -2
            if pending and field != len(pending):  # the word in progress is interrupted
                num_invalid_words += 1
                num_invalid_tokens += len(pending)
                pending = []
            if field == -1:
                if token == self.eos_token_id and stop_at_eos:
                    stopped = True
                    break
                if style is None and token in style_names:
                    style = style_names[token]
                continue
            if field == -2 or field != len(pending):  # unknown id, or an instrument/velocity without its dt
                num_invalid_words += 1
                num_invalid_tokens += 1
                continue
            pending.append(token - self.field_offsets[field])
            if len(pending) == 3:
                dt, instrument, velocity_bin = pending
                pending = []
                position += dt
                if instrument == self.shift_instrument:
                    num_shifts += 1
                else:
                    ticks.append(position)
                    classes.append(instrument)
                    bins.append(velocity_bin)
        if pending:  # truncated at the end
            num_invalid_words += 1
            num_invalid_tokens += len(pending)

        ticks = np.array(ticks, dtype=np.int64)
        times = self.ticks_to_times(ticks, bpm=bpm, beat_times=beat_times)
        hits = DrumHits(times=times, classes=np.array(classes, dtype=np.int64),
                        velocities=self.bin_to_velocity(np.array(bins, dtype=np.int64)))
        return DrumDecodeOutput(
            midi=self._hits_to_midi(hits, bpm=bpm, beat_times=beat_times), hits=hits, ticks=ticks, style=style,
            num_shift_words=num_shifts, num_invalid_words=num_invalid_words, num_invalid_tokens=num_invalid_tokens,
            stopped_at_eos=stopped,
        )

    def decode_midi(
        self,
        ids: "Sequence[int] | np.ndarray | Any",
        bpm: float = 120.0,
        beat_times: "np.ndarray | Sequence[float] | None" = None,
    ) -> pretty_midi.PrettyMIDI:
        """Ids -> drum MIDI (channel 10, each hit a ``note_duration`` note on its class's first GM pitch).

        Tolerates any ids; call :meth:`decode_tokens` instead to also get the count of skipped invalid words.
        """
        return self.decode_tokens(ids, bpm=bpm, beat_times=beat_times).midi

    def ticks_to_times(
        self, ticks: np.ndarray, bpm: float = 120.0, beat_times: "np.ndarray | Sequence[float] | None" = None,
    ) -> np.ndarray:
        """Positions in ticks -> seconds, on ``beat_times`` (extrapolated) or at a constant ``bpm``."""
        positions = np.asarray(ticks, dtype=np.float64) / self.ticks_per_beat
        if beat_times is None:
            return positions * 60.0 / self._check_bpm(bpm)
        beat_times = np.asarray(beat_times, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(beat_times)) or np.any(np.diff(beat_times) <= 0):
            raise ValueError(f"beat_times must be finite and strictly increasing seconds, got {beat_times[:8]}...; "
                             "pass the beats of the track")
        return beats_to_times(positions, _beat_grid(beat_times, 60.0 / self._check_bpm(bpm)))

    @staticmethod
    def _check_bpm(bpm: float) -> float:
        if not (np.isfinite(bpm) and bpm > 0):
            raise ValueError(f"bpm must be a positive number, got {bpm}; pass e.g. bpm=120.0")
        return float(bpm)

    def _hits_to_midi(self, hits: DrumHits, bpm: float, beat_times) -> pretty_midi.PrettyMIDI:
        if beat_times is not None and len(beat_times) >= 2:
            bpm = 60.0 / float(np.median(np.diff(np.asarray(beat_times, dtype=np.float64))))
        midi = hits.to_midi(bpm=bpm)
        for note in midi.instruments[0].notes:
            note.end = note.start + self.note_duration
        return midi

    def _as_flat_ids(self, ids: Any) -> list[int | None]:
        """Flat python ints from a list / array / tensor, or from ``(num_words, 3)`` words; bad rows -> ``None``."""
        if hasattr(ids, "detach"):  # torch tensor
            ids = ids.detach().cpu().numpy()
        array = np.asarray(ids)
        if array.dtype == object:  # python ints beyond int64: keep them, they are simply out of range
            values = array.reshape(-1).tolist()
            if all(isinstance(value, (int, np.integer)) for value in values):
                return [int(value) for value in values]
        if not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
            raise TypeError(f"ids must be integers, got an array of {array.dtype}; pass token ids from the model")
        array = array.astype(np.int64)
        if array.ndim == 2 and array.shape[0] > 1:
            if array.shape[1] != 3:
                raise ValueError(f"got ids of shape {array.shape}; decode one sequence at a time (seq_len,) or "
                                 "pass (num_words, 3) per-field words")
            flat: list[int | None] = []
            for word in array.tolist():
                converted = self._word_to_flat(word)
                flat.extend(converted if converted is not None else [None])
            return flat
        return array.reshape(-1).tolist()


__all__ = ["DrumTokenizer", "DrumDecodeOutput", "style_token", "times_to_beats", "beats_to_times"]
