import click


def test_add_list_set_state_remove(app):
    runner = app.test_cli_runner()
    added = runner.invoke(args=["agents", "add", "Ann", "--address", "sip:ann@pbx.example.com",
                                "--skills", "billing:7,support"])
    assert added.exit_code == 0, added.output
    assert "added Ann" in added.output
    assert runner.invoke(args=["agents", "set-state", "Ann", "available"]).output.strip() == "Ann is available"
    listed = runner.invoke(args=["agents", "list", "--state", "available"]).output
    assert "Ann\tavailable\tbilling:7,support:5\tsip:ann@pbx.example.com" in listed
    refused = runner.invoke(args=["agents", "set-state", "Ann", "on_call"])
    assert refused.exit_code != 0 and "cannot go from available to on call" in refused.output
    bad = runner.invoke(args=["agents", "add", "Bo", "--address", "12", "--skills", "billing"])
    assert bad.exit_code != 0 and "not a way to reach" in bad.output
    assert "removed Ann" in runner.invoke(args=["agents", "remove", "Ann"]).output


def test_every_agents_command_and_option_says_what_it_does(app):
    """`agents --help` lists each subcommand with a line of help, like `users` does, and so does every option."""
    from agents.cli import agents_cli

    runner = app.test_cli_runner()
    listing = runner.invoke(args=["agents", "--help"]).output
    for name, command in agents_cli.commands.items():
        assert command.help, f"`agents {name}` has no help text"
        line = next(line for line in listing.splitlines() if line.strip().startswith(name + " "))
        assert len(line.split(None, 1)[1]) > 10, line  # the listing shows a sentence, not a blank
        for option in command.params:
            if isinstance(option, click.Option) and option.name != "help":
                assert option.help, f"`agents {name} {option.opts[0]}` has no help text"
        assert command.help.split()[0] in runner.invoke(args=["agents", name, "--help"]).output
