"""Fetching, extraction and age-verification wording classification for online knife listings."""
