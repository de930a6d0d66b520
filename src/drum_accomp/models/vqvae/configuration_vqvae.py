"""Configuration of the mel VQ-VAE (one class; a backing config and a drums config)."""

from __future__ import annotations

from transformers import PretrainedConfig


class MelVQVAEConfig(PretrainedConfig):
    """Hyper-parameters of :class:`MelVQVAEModel`: log-mel frames -> discrete codes -> log-mel frames.

    The encoder is a stack of 1-D convolutions over time (mel bands as channels) with residual blocks and
    ``log2(downsample_factor)`` stride-2 convolutions; one code stands for ``downsample_factor`` mel frames. The
    decoder mirrors it with stride-2 transposed convolutions. The codebook is learned by exponential moving
    averages (no codebook gradient) and unused codes are restarted from encoder outputs, as in JukeDrummer /
    Jukebox.

    Args:
        num_mels (`int`, defaults to 80): mel bands of the input, ``BeatAlignedMelFeatureExtractor.num_mels``.
        hidden_size (`int`, defaults to 128): channels of the convolutional encoder and decoder.
        num_res_blocks (`int`, defaults to 2): residual blocks per resolution (before each downsampling step of
            the encoder, after each upsampling step of the decoder).
        dilation_growth_rate (`int`, defaults to 3): block ``j`` of a resolution uses dilation
            ``dilation_growth_rate ** j`` (frames), widening the receptive field cheaply.
        downsample_factor (`int`, defaults to 4): mel frames per code; a power of 2 (one stride-2 convolution per
            factor of 2). Inputs must hold a multiple of it frames.
        codebook_size (`int`, defaults to 64): number of codes (JukeDrummer used 32).
        codebook_dim (`int`, defaults to 64): dimension of a code vector (the encoder's output channels).
        commitment_weight (`float`, defaults to 0.25): weight of the commitment loss
            ``||encoder_output - sg(code)||^2`` pulling the encoder towards its codes.
        ema_decay (`float`, defaults to 0.99): decay of the moving averages of code usage and code sums.
        dead_code_threshold (`float`, defaults to 1.0): a code whose moving-average usage (assigned vectors per
            training step) falls below this is restarted from a random encoder output of the batch.
        epsilon (`float`, defaults to 1e-5): Laplace smoothing of the usage counts (avoids dividing by zero).
        mel_mean (`float`, defaults to -6.0): subtracted from the input log-mels (natural log, floor
            ``log(1e-5) = -11.5``) before the encoder; set it from the training data.
        mel_std (`float`, defaults to 4.0): the input log-mels are divided by it after subtracting ``mel_mean``;
            the reconstruction loss is measured in these normalised units, outputs are mapped back.
        frame_rate (`float`, defaults to 100.0): mel frames per second (16000 Hz / 160-sample hop); only used by
            the derived ``code_rate``.
    """

    model_type = "drum_accomp_mel_vqvae"

    def __init__(
        self,
        num_mels: int = 80,
        hidden_size: int = 128,
        num_res_blocks: int = 2,
        dilation_growth_rate: int = 3,
        downsample_factor: int = 4,
        codebook_size: int = 64,
        codebook_dim: int = 64,
        commitment_weight: float = 0.25,
        ema_decay: float = 0.99,
        dead_code_threshold: float = 1.0,
        epsilon: float = 1e-5,
        mel_mean: float = -6.0,
        mel_std: float = 4.0,
        frame_rate: float = 100.0,
        **kwargs,
    ):
        if downsample_factor < 1 or downsample_factor & (downsample_factor - 1):
            raise ValueError(f"downsample_factor must be a power of 2 (1, 2, 4, 8, ...), got {downsample_factor}")
        if not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {ema_decay}")
        if codebook_size < 2:
            raise ValueError(f"codebook_size must be at least 2, got {codebook_size}")
        if mel_std <= 0:
            raise ValueError(f"mel_std must be positive, got {mel_std}")
        self.num_mels = int(num_mels)
        self.hidden_size = int(hidden_size)
        self.num_res_blocks = int(num_res_blocks)
        self.dilation_growth_rate = int(dilation_growth_rate)
        self.downsample_factor = int(downsample_factor)
        self.codebook_size = int(codebook_size)
        self.codebook_dim = int(codebook_dim)
        self.commitment_weight = float(commitment_weight)
        self.ema_decay = float(ema_decay)
        self.dead_code_threshold = float(dead_code_threshold)
        self.epsilon = float(epsilon)
        self.mel_mean = float(mel_mean)
        self.mel_std = float(mel_std)
        self.frame_rate = float(frame_rate)
        super().__init__(**kwargs)

    @property
    def num_downsampling_steps(self) -> int:
        """Stride-2 convolutions in the encoder (transposed ones in the decoder): ``log2(downsample_factor)``."""
        return self.downsample_factor.bit_length() - 1

    @property
    def frames_per_code(self) -> int:
        """Mel frames one code stands for (``downsample_factor``)."""
        return self.downsample_factor

    @property
    def code_rate(self) -> float:
        """Codes per second: ``frame_rate / downsample_factor`` (25 codes/s at 100 frames/s and x4)."""
        return self.frame_rate / self.downsample_factor


__all__ = ["MelVQVAEConfig"]
