"""The daily reminder and the channel figures behind it (METHOD.md §4), free of Slack.

- `schedule`: when a schedule is due (DST, weekdays, grace period) and parsing the admin's words.
- `record`: message metadata of watched channels, as the channel listener hands it over.
- `metrics`: a channel's figures for one day from that metadata.
- `digest`: what a reminder says, as plain data for `bot/blocks/reminder.py`.
- `claims`: the delivery log that makes each reminder go out once across replicas and restarts.
- `delivery`: the scheduler's tick, posting through a `ReminderPoster` the Slack layer provides.
"""
