"""A Telegram bot on Kazakhstan's 2024 law on women's rights and child safety.

The core (content, language, matching, replies) needs no Telegram; handlers and app adapt it.
"""
