"""Daily digests for department leads and response-time alerts for staff.

Import from the modules: bot.digest.jobs.schedule_digests (the bot) and
bot.digest.command.run_digest_command (the CLI); the package itself stays light.
"""
