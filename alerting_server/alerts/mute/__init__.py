"""Muting: silences and inhibition, both answering one question: is this alert muted, and by what?"""
