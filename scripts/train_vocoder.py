"""Train the drum vocoder (log-mel -> 16 kHz audio) on rendered GMD drums; validate on the validation split.

    python datasets_scripts/build_vocoder_data.py --output data/vocoder --num-proc 2
    python scripts/train_vocoder.py --config configs/vocoder.json --data data/vocoder \
        --output_dir outputs/vocoder --export_dir checkpoints/vocoder --torch_threads 2 [--resume]
    # then fine-tune on what the pipeline feeds it, the drum VQ-VAE's decoded mels:
    python scripts/train_vocoder.py --config configs/vocoder.json --data data/vocoder \
        --vqvae checkpoints/vqvae_drums --init_from checkpoints/vocoder \
        --output_dir outputs/vocoder_vq --export_dir checkpoints/vocoder_vq

Training batches are random crops of ``data.crop_frames`` mel frames and the matching ``crop_frames * 160``
samples (drawn from torch's generator, which the Trainer seeds and restores on ``--resume``); validation uses
whole segments. With ``--vqvae`` the input mels are replaced by the drum VQ-VAE's reconstruction (computed once, at
the start) while the target stays the real audio, so the vocoder learns to undo the codec's smearing.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import HfArgumentParser, Trainer

from drum_accomp.data.build_utils import command_line
from drum_accomp.models.vocoder import DrumVocoder, DrumVocoderConfig
from drum_accomp.training import CommonTrainingArguments, early_stopping, load_settings, train_and_export, \
    training_arguments

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class VocoderArguments:
    data: str = field(default="", metadata={"help": "dataset folder from build_vocoder_data.py ('' = config "
                                                     "data.dataset)"})
    vqvae: str = field(default="", metadata={"help": "drum MelVQVAEModel folder: train on its decoded mels"})
    init_from: str = field(default="", metadata={"help": "start from this DrumVocoder (fine-tuning) instead of "
                                                          "a fresh model"})


class VocoderSegments(torch.utils.data.Dataset):
    """Segments of a ``build_vocoder_data`` split as ``{"mel_features": (frames, 80), "waveforms": (frames * hop,)}``
    float32 tensors.

    ``crop_frames`` > 0: a random crop of that many frames per access (whole hops, so mel frame ``i`` stays centred
    on sample ``i * hop_length`` of the crop), drawn from torch's generator, which the Trainer seeds and restores on
    resume; 0: whole segments (validation). ``mels`` (optional, ``(num_segments, num_frames, 80)``) replaces the
    stored mels (the drum VQ-VAE's decoded ones).
    """

    def __init__(self, split, crop_frames: int = 0, hop_length: int = 160, mels: np.ndarray | None = None):
        self.split = split.with_format("numpy", columns=["audio", "mel"])
        self.crop_frames = crop_frames
        self.hop_length = hop_length
        self.mels = mels

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        row = self.split[int(index)]
        mel = row["mel"] if self.mels is None else self.mels[index]
        num_frames = len(mel)
        crop = self.crop_frames if 0 < self.crop_frames < num_frames else num_frames
        start = int(torch.randint(0, num_frames - crop + 1, ())) if crop < num_frames else 0
        audio = row["audio"][start * self.hop_length:(start + crop) * self.hop_length]
        return {"mel_features": torch.from_numpy(np.asarray(mel[start:start + crop], dtype=np.float32)),
                "waveforms": torch.from_numpy(audio.astype(np.float32) / 32768.0)}


def vqvae_mels(split, vqvae_dir: str, batch_size: int = 32) -> np.ndarray:
    """The drum VQ-VAE's reconstruction of every stored mel, ``(num_segments, num_frames, 80)`` float16."""
    from drum_accomp.models.vqvae import MelVQVAEModel

    vqvae = MelVQVAEModel.from_pretrained(vqvae_dir, dtype=torch.float32).eval()
    factor = vqvae.config.downsample_factor
    stored = split.with_format("numpy", columns=["mel"])
    outputs = []
    for start in range(0, len(stored), batch_size):
        mels = np.asarray(stored[start:start + batch_size]["mel"], dtype=np.float32)  # (batch, frames, 80)
        if mels.shape[1] % factor:
            raise ValueError(f"segments of {mels.shape[1]} frames are not a multiple of the VQ-VAE's "
                             f"downsample_factor {factor}; rebuild the data with a matching --segment-seconds")
        with torch.no_grad():
            outputs.append(vqvae.decode(vqvae.encode(torch.from_numpy(mels))).numpy().astype(np.float16))
    return np.concatenate(outputs)


def load_splits(path: str, args: CommonTrainingArguments, vqvae_dir: str, crop_frames: int, hop_length: int):
    """Training segments (random crops) and validation segments (whole), with VQ-VAE mels when asked."""
    import datasets

    if not Path(path).is_dir():
        raise FileNotFoundError(f"no vocoder dataset at {path!r}; build it with: python "
                                f"datasets_scripts/build_vocoder_data.py --output {path}")
    dataset = datasets.load_from_disk(path)
    missing = [split for split in ("train", "validation") if split not in dataset]
    if missing:
        raise ValueError(f"{path!r} lacks the split(s) {missing}; it has {list(dataset)}")
    train, validation = dataset["train"], dataset["validation"]
    if args.max_train_rows:
        train = train.select(range(min(args.max_train_rows, len(train))))
    if args.max_eval_rows:
        validation = validation.select(range(min(args.max_eval_rows, len(validation))))
    if vqvae_dir:
        start = time.perf_counter()
        train_mels, validation_mels = vqvae_mels(train, vqvae_dir), vqvae_mels(validation, vqvae_dir)
        print(f"VQ-VAE ({vqvae_dir}) mels for {len(train)} + {len(validation)} segments in "
              f"{time.perf_counter() - start:.0f} s")
    else:
        train_mels = validation_mels = None
    return (VocoderSegments(train, crop_frames, hop_length, train_mels),
            VocoderSegments(validation, 0, hop_length, validation_mels))


def main(argv: list[str] | None = None) -> dict:
    common, own = HfArgumentParser((CommonTrainingArguments, VocoderArguments)).parse_args_into_dataclasses(args=argv)
    settings = load_settings(common.config)
    data_settings = dict(settings.get("data", {}))
    training_args = training_arguments(settings, common)  # sets the torch threads first
    data_path = own.data or str(REPO_ROOT / data_settings.get("dataset", "data/vocoder"))

    # 1. Model: fresh from the config, or a trained vocoder to fine-tune.
    if own.init_from:
        model = DrumVocoder.from_pretrained(own.init_from, dtype=torch.float32)
    else:
        model = DrumVocoder(DrumVocoderConfig(**settings["model"]))
    num_parameters = sum(parameter.numel() for parameter in model.parameters())
    print(f"model: {num_parameters:,} parameters")

    # 2. Data: rendered segments; random crops for training, whole segments for validation.
    crop_frames = int(data_settings.get("crop_frames", 128))
    train, validation = load_splits(data_path, common, own.vqvae, crop_frames, model.config.hop_length)
    print(f"segments: train {len(train)}, validation {len(validation)}; crops of {crop_frames} frames")

    # 3. Trainer (the default collator stacks the equal-length tensors).
    trainer = Trainer(model=model, args=training_args, train_dataset=train, eval_dataset=validation,
                      callbacks=early_stopping(settings))
    summary = train_and_export(trainer, common, settings, command=command_line(__file__, argv), extra={
        "num_parameters": num_parameters, "data": data_path, "vqvae": own.vqvae or None,
        "init_from": own.init_from or None, "train_segments": len(train), "validation_segments": len(validation)})
    return summary


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
