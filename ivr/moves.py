"""The two tables that pick a handler by name, joined from the modules that own them:

- `MOVES`: where each answer leads (the move names in `ivr.steps`' `leads` and `give_up`). A move takes
  the flow, the call and the answer's `Meaning`, and returns the TwiML of the next turn.
- `QUESTIONS`: the words of a question whose prompt takes values (a wait, a window, digits). A question
  not listed says its step's prompt as it is.
"""
from __future__ import annotations

from typing import Callable

from ivr import after_hours, callback_number, callback_times, line, menu_moves, returning

MOVES: dict[str, Callable] = {
    **line.MOVES,
    **menu_moves.MOVES,
    **callback_number.MOVES,
    **callback_times.MOVES,
    **after_hours.MOVES,
    **returning.MOVES,
}

QUESTIONS: dict[str, Callable] = {
    **line.QUESTIONS,
    **menu_moves.QUESTIONS,
    **callback_number.QUESTIONS,
    **callback_times.QUESTIONS,
    **after_hours.QUESTIONS,
    **returning.QUESTIONS,
}
