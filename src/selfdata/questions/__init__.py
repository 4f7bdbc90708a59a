"""Compute-to-data: services ask precise questions, only the answer leaves."""

from selfdata.questions.plugin import BuiltinQuestion, QuestionData, SeriesData

__all__ = ["BuiltinQuestion", "QuestionData", "SeriesData"]
