"""drum_accomp: drums for a backing track, as audio and drum MIDI, in the Hugging Face style."""

__version__ = "0.1.0"

__all__ = []

# --- feature extractor registration ---
# AutoFeatureExtractor.from_pretrained finds a class by the `feature_extractor_type` name saved in
# preprocessor_config.json, searching the classes registered in FEATURE_EXTRACTOR_MAPPING. `register` wants a key;
# this extractor belongs to no single model config, and transformers 5.23 accepts a plain string key for that.
from transformers import AutoFeatureExtractor

from .feature_extraction_beat_mel import BeatAlignedMelFeatureExtractor

AutoFeatureExtractor.register("beat_aligned_mel", BeatAlignedMelFeatureExtractor, exist_ok=True)
__all__ += ["BeatAlignedMelFeatureExtractor"]
# --- end feature extractor registration ---

# --- tokenizer / processor registration ---
# AutoTokenizer / AutoProcessor find a custom class by the name saved in tokenizer_config.json ("tokenizer_class")
# or processor_config.json ("processor_class"), among registered classes. `register` wants a key: these classes
# belong to no single model config, and transformers 5.23 takes a plain string key (as for the feature extractor).
from transformers import AutoProcessor, AutoTokenizer

from .processing_drum_accomp import DrumAccompanimentProcessor
from .tokenization_drum import DrumDecodeOutput, DrumTokenizer

AutoTokenizer.register("drum_tokenizer", tokenizer_class=DrumTokenizer, exist_ok=True)
AutoProcessor.register("drum_accompaniment", DrumAccompanimentProcessor, exist_ok=True)
__all__ += ["DrumTokenizer", "DrumDecodeOutput", "DrumAccompanimentProcessor"]
# --- end tokenizer / processor registration ---

# --- genre classifier registration ---
# AutoConfig / AutoModel / AutoModelForSequenceClassification find the classifier by config.json's model_type.
from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification

from .models.genre import DrumGenreClassifier, DrumGenreClassifierConfig

AutoConfig.register("drum_genre_classifier", DrumGenreClassifierConfig, exist_ok=True)
AutoModel.register(DrumGenreClassifierConfig, DrumGenreClassifier, exist_ok=True)
AutoModelForSequenceClassification.register(DrumGenreClassifierConfig, DrumGenreClassifier, exist_ok=True)
__all__ += ["DrumGenreClassifier", "DrumGenreClassifierConfig"]
# --- end genre classifier registration ---

# --- mel VQ-VAE registration ---
# AutoConfig / AutoModel find the VQ-VAE (backing or drums: one class, two configs) by config.json's model_type.
from .models.vqvae import MelVQVAEConfig, MelVQVAEModel

AutoConfig.register("drum_accomp_mel_vqvae", MelVQVAEConfig, exist_ok=True)
AutoModel.register(MelVQVAEConfig, MelVQVAEModel, exist_ok=True)
__all__ += ["MelVQVAEConfig", "MelVQVAEModel"]
# --- end mel VQ-VAE registration ---

# --- beat tracker registration ---
# AutoConfig / AutoModel find our beat and downbeat tracker by config.json's model_type.
from .models.beat_tracker import DrumBeatTracker, DrumBeatTrackerConfig

AutoConfig.register("drum_accomp_beat_tracker", DrumBeatTrackerConfig, exist_ok=True)
AutoModel.register(DrumBeatTrackerConfig, DrumBeatTracker, exist_ok=True)
__all__ += ["DrumBeatTracker", "DrumBeatTrackerConfig"]
# --- end beat tracker registration ---

# --- drum vocoder registration ---
# AutoConfig / AutoModel find the vocoder (drum mel -> 16 kHz audio) by config.json's model_type.
from .models.vocoder import DrumVocoder, DrumVocoderConfig

AutoConfig.register("drum_accomp_vocoder", DrumVocoderConfig, exist_ok=True)
AutoModel.register(DrumVocoderConfig, DrumVocoder, exist_ok=True)
__all__ += ["DrumVocoder", "DrumVocoderConfig"]
# --- end drum vocoder registration ---

# --- drum accompaniment model registration ---
# AutoConfig / AutoModel find the accompaniment model (backing codes -> drum codes + hits) by config.json's model_type.
from .models.accompaniment import DrumAccompanimentConfig, DrumAccompanimentModel

AutoConfig.register("drum_accomp_accompaniment", DrumAccompanimentConfig, exist_ok=True)
AutoModel.register(DrumAccompanimentConfig, DrumAccompanimentModel, exist_ok=True)
__all__ += ["DrumAccompanimentConfig", "DrumAccompanimentModel"]
# --- end drum accompaniment model registration ---

# --- groove model registration ---
# AutoConfig / AutoModel find the groove LM (drum compound words, STYLE token first) by config.json's model_type.
from .models.groove import GrooveConfig, GrooveModel

AutoConfig.register("drum_accomp_groove", GrooveConfig, exist_ok=True)
AutoModel.register(GrooveConfig, GrooveModel, exist_ok=True)
__all__ += ["GrooveConfig", "GrooveModel"]
# --- end groove model registration ---
