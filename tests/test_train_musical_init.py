"""A scratch model starts knowing its note and chord words' pitch classes (backends/musical_init.py)."""

from __future__ import annotations

import pytest
import torch

from pipelines.data.vocab import Vocabulary
from pipelines.train.backends.musical_init import musical_embeddings, word_pitch_classes
from pipelines.train.data import scratch_tokenizer


@pytest.fixture(scope="module")
def model_and_tokenizer():
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = scratch_tokenizer(Vocabulary().tokens + ["Pitch_60", "CHORD_Xyz"])
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                                         num_hidden_layers=1, num_attention_heads=4, tie_word_embeddings=True))
    before = model.get_input_embeddings().weight.detach().clone()
    count = musical_embeddings(model, tokenizer, seed=3)
    return model, tokenizer, before, count


def _vector(model, tokenizer, word):
    return model.get_input_embeddings().weight[tokenizer.convert_tokens_to_ids(word)].detach()


def test_note_and_chord_words_start_from_their_pitch_classes(model_and_tokenizer):
    model, tokenizer, _, count = model_and_tokenizer
    vocab = tokenizer.get_vocab()
    assert count == sum(word_pitch_classes(w) is not None for w in vocab)
    assert count > 1000  # every note word and every chord word of the studio's vocabulary

    def cos(a, b):
        return float(torch.cosine_similarity(_vector(model, tokenizer, a), _vector(model, tokenizer, b), dim=0))

    # an octave apart is nearer than a semitone apart; a chord's tones nearer to it than other notes
    assert cos("NOTE_48", "NOTE_60") > cos("NOTE_60", "NOTE_61") + 0.2
    for chord, inside, outside in (("CHORD_C", "NOTE_64", "NOTE_63"), ("CHORD_Ab9", "NOTE_70", "NOTE_67"),
                                   ("CHORD_Ebmaj7/G", "NOTE_55", "NOTE_56")):
        assert cos(chord, inside) > cos(chord, outside) + 0.2, chord
    # the same chord in another key is the same shape: Cmaj7 -> E, Dmaj7 -> F#
    assert abs(cos("CHORD_Cmaj7", "NOTE_64") - cos("CHORD_Dmaj7", "NOTE_66")) < 0.25


def test_other_words_keep_their_random_init_and_the_output_layer_is_tied(model_and_tokenizer):
    model, tokenizer, before, _ = model_and_tokenizer
    for word in ("BAR_START", "POS_0", "Pitch_60", "CHORD_NC", "CHORD_Xyz", "<pad>"):
        index = tokenizer.convert_tokens_to_ids(word)
        assert torch.equal(model.get_input_embeddings().weight[index].detach(), before[index]), word
    assert model.get_output_embeddings().weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()


def test_word_meanings():
    assert word_pitch_classes("NOTE_61") == ({1: 1.0}, 5)
    weights, octave = word_pitch_classes("CHORD_G7")
    assert octave is None and {7, 11, 2, 5} <= {pc for pc, w in weights.items() if w == 1.0}
    assert word_pitch_classes("CHORD_NC") is None and word_pitch_classes("VEL_MF") is None
