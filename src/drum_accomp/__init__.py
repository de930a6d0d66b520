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

# --- model registrations ---
# AutoConfig / AutoModel find each model by the model_type saved in its config.json.
from .models.accompaniment import DrumAccompanimentConfig, DrumAccompanimentModel
from .models.beat_tracker import DrumBeatTracker, DrumBeatTrackerConfig
from .models.groove import GrooveConfig, GrooveModel
from .models.system import DrumAccompanimentSystem, DrumAccompanimentSystemConfig
from .models.vocoder import DrumVocoder, DrumVocoderConfig
from .models.vqvae import MelVQVAEConfig, MelVQVAEModel

for _config_class, _model_class in (
    (MelVQVAEConfig, MelVQVAEModel),  # backing or drums: one class, two configs
    (DrumBeatTrackerConfig, DrumBeatTracker),
    (DrumVocoderConfig, DrumVocoder),  # drum mel -> 16 kHz audio
    (DrumAccompanimentConfig, DrumAccompanimentModel),  # backing codes -> drum codes + hits
    (GrooveConfig, GrooveModel),  # drum compound words, STYLE token first
    (DrumAccompanimentSystemConfig, DrumAccompanimentSystem),  # all of the above in one checkpoint
):
    AutoConfig.register(_config_class.model_type, _config_class, exist_ok=True)
    AutoModel.register(_config_class, _model_class, exist_ok=True)
del _config_class, _model_class
__all__ += ["MelVQVAEConfig", "MelVQVAEModel", "DrumBeatTracker", "DrumBeatTrackerConfig", "DrumVocoder",
            "DrumVocoderConfig", "DrumAccompanimentConfig", "DrumAccompanimentModel", "GrooveConfig", "GrooveModel",
            "DrumAccompanimentSystem", "DrumAccompanimentSystemConfig"]
# --- end model registrations ---

# --- pipeline registration ---
# pipeline("drum-accompaniment") finds its class here; with no model= it loads the checkpoint bundled inside the
# package (an absolute local path as the default "model" is what transformers 5.23's pipeline() accepts offline).
from transformers.pipelines import PIPELINE_REGISTRY

from .pipelines import DEFAULT_ACCOMPANIMENT_MODEL, DEFAULT_GROOVE_MODEL, DrumAccompanimentPipeline, DrumGroovePipeline

PIPELINE_REGISTRY.register_pipeline("drum-accompaniment", pipeline_class=DrumAccompanimentPipeline,
                                    pt_model=DrumAccompanimentSystem,
                                    default={"model": (str(DEFAULT_ACCOMPANIMENT_MODEL), "main")}, type="audio")
PIPELINE_REGISTRY.register_pipeline("drum-groove", pipeline_class=DrumGroovePipeline, pt_model=GrooveModel,
                                    default={"model": (str(DEFAULT_GROOVE_MODEL), "main")}, type="multimodal")
__all__ += ["DrumAccompanimentPipeline", "DrumGroovePipeline"]
# --- end pipeline registration ---
