"""Rewards: lexical overlap (ROUGE, BLEU, chrF); learned and composite rewards come later."""

# The registered rewards' modules, in the order `bench list` shows them
# (harness/api/registry.py); within a module, source order.
__all__ = ["lexical", "learned", "evaluated"]
