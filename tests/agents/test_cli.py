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
