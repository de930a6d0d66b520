"""Prompt adaptation of the groove model: a few gradient steps on the prompt before continuing it.

A groove is its drummer's: the ghost notes, the hi-hat accents and the bar-to-bar variations of *this* prompt are
what its next bars are most likely to hold, and a model trained on many drummers spreads its bets over all of them.
*Dynamic evaluation* (Krause et al., "Dynamic Evaluation of Neural Sequence Models", ICML 2018) fits a copy of the
model to the text it is about to continue; here that text is the prompt:

1. :func:`adapt_to_prompt` copies the model (in float32) and takes ``steps`` Adam steps (``learning_rate``) on the
   prompt's own next-word loss (the same three field losses as training; the ``<bos> <STYLE>`` words are context,
   not targets), without dropout;
2. the copy writes the continuation (greedy, sampled or consensus), and is then dropped: the model itself is never
   changed.

Nothing is copied from the prompt: the adapted model still writes every word, and it can still leave the prompt's
pattern (a fill at the end of a phrase); the README reports how often its bars repeat a prompt bar. Settings:
``GrooveConfig.adaptation_steps`` / ``adaptation_learning_rate`` (0 steps = off), chosen on GMD validation.
"""

from __future__ import annotations

import copy

import torch

from .configuration_groove import check_adaptation_settings
from .modeling_groove import IGNORE_INDEX

CONTEXT_WORDS = 2
"""``<bos> <STYLE>``: the first target the loss sees is the first hit after them."""


def adapt_to_prompt(model, input_words: torch.Tensor, steps: int, learning_rate: float, bpm=None,
                    beats_per_bar=None):
    """A copy of ``model`` fitted to one prompt (the model itself is not changed).

    Args:
        model: a :class:`GrooveModel`.
        input_words: ``(1, num_words, 3)`` the prompt, ``<bos> <STYLE>`` first (one prompt: each prompt gets its own
            copy; :meth:`GrooveModel.generate` adapts a batch row by row).
        steps: Adam steps on the prompt (0 returns ``model`` itself).
        learning_rate: Adam's learning rate.
        bpm, beats_per_bar: as in ``GrooveModel.forward``.
    Returns:
        the adapted copy, in float32 and eval mode (or ``model`` for 0 steps or a prompt without a word to learn
        from).
    Raises:
        ValueError: negative ``steps``, a learning rate that is not > 0, or more than one prompt.
    """
    check_adaptation_settings(steps, learning_rate)
    if input_words.dim() != 3 or input_words.shape[0] != 1:
        raise ValueError(f"adapt_to_prompt fits one prompt, shape (1, num_words, 3), got {tuple(input_words.shape)}; "
                         "adapt each prompt of a batch on its own")
    if steps == 0 or input_words.shape[1] <= CONTEXT_WORDS + 1:
        return model
    # generate() and pipelines run under inference mode / no_grad; the copy learns outside of them. Tensors made
    # under inference mode cannot be saved for backward, hence the clones.
    with torch.inference_mode(False), torch.enable_grad():
        # float32: Adam steps on float16 weights (the bundled checkpoint's storage) overflow and round away
        adapted = copy.deepcopy(model).float().eval()  # eval: no dropout; gradients still flow
        for parameter in adapted.parameters():
            parameter.requires_grad_(True)
        words = input_words.clone()
        labels = words.clone()
        labels[:, :CONTEXT_WORDS] = IGNORE_INDEX
        bpm = bpm.clone() if torch.is_tensor(bpm) else bpm
        beats_per_bar = beats_per_bar.clone() if torch.is_tensor(beats_per_bar) else beats_per_bar
        optimizer = torch.optim.Adam(adapted.parameters(), lr=learning_rate)
        for _ in range(steps):
            loss = adapted(words, labels=labels, bpm=bpm, beats_per_bar=beats_per_bar).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        for parameter in adapted.parameters():
            parameter.requires_grad_(False)
    return adapted


__all__ = ["adapt_to_prompt"]
