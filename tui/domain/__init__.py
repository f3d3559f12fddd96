"""Pure rules of Twilio messaging: statuses and their precedence, the error catalog,
segment math, addresses, schedule rules. No I/O, no frameworks, nothing else of ours."""
