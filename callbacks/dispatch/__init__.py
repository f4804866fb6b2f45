"""The dispatcher's parts, one job each; callbacks/dispatcher.py is the front door that holds them.

    work.py           one transaction on one entry, and the Twilio requests it decided (after commit)
    talk.py           what the dispatcher's calls say (the IVR file's wording, the customer's voice)
    legs.py           what every leg shares: its claim number, its agent, storing call SIDs
    notices.py        messages to customers: booking confirmations, retry times, new windows
    slips.py          re-estimating waiting callbacks: a slip out of the window told gets a new one
    retry.py          after an attempt that did not connect: back in line, try later, or give up
    placing.py        placing the calls of a claim (agent leg, customer leg) and their dial failures
    agent_leg.py      the agent's leg: whisper, accept or decline, status
    customer_leg.py   the customer's leg: greeting, answering-machine verdict, status
    holder_leg.py     a live holder bridged from Twilio's queue to the agent
    serving.py        the serve loop: pair free agents with due entries, claim, place, next wake-up
    recovery.py       after a crash: reconcile in-flight claims and held agents with Twilio's records
Due-entry selection lives in routing/due.py, beside the line order; settings in config.DispatchSettings.
"""
