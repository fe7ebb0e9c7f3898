"""Rewards: lexical overlap (ROUGE, BLEU, chrF); learned and composite rewards come later."""
