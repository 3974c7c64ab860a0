import dbus
def test_probe(host, daemon):
    d = daemon(host)
    for a in ['0000:03:00.0','0000:04:00.0','0000:06:00.0','0000:00:1f.2','0000:02:00.0','0000:c1:00.1']:
        try:
            print(a, d.call('/org/hwsecd1/pci','org.hwsecd1.Pci','CheckAssignable',a,signature='s'))
        except dbus.DBusException as e:
            print(a, e.get_dbus_name(), e)
    print(d.get('/org/hwsecd1/asid','org.hwsecd1.Asid','Pools'))
    print(d.get('/org/hwsecd1/asid','org.hwsecd1.Asid','Explanation'))
    for c in d.call('/org/hwsecd1','org.hwsecd1.Manager','GetChecks')[0]:
        print(c[0], c[2], c[4][:80], '|', c[5][:80])
    assert 0
