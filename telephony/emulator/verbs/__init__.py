"""TwiML verbs, one module each, as Twilio's documentation has one page each; `table.VERBS` picks the
module that follows a verb (as jambonz's make_task does). A verb module has `follow(run)`: it takes
its verb from `run` (program.Run) and returns the next document's Target, or None to go on with the
next verb; a verb that waits (for keys, a queue, a conversation) is a generator yielding what it
waits for (waits.py). Say, Play and Pause also say which prompts they make (`prompts`), so that
prompts in a row and the Gather after them play as one Segment (segment.py)."""
