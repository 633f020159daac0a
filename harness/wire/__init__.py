"""The wire view: the packets of each run, captured on the loopback interface while the run is
traced, decoded, set beside the socket calls that made them (one clock), and rendered as a
timeline, a Mermaid sequence diagram and a pcapng file.

    capture.py    an AF_PACKET socket on lo, a classic BPF filter on the run's port
    packets.py    frames -> TCP segments and UDP datagrams (a small struct decoder)
    wirefile.py   wire.jsonl, the run's capture (docs/trace-format.md)
    correlate.py  packets <-> the calls of both sides; TCP states; the wire's attributes
    pcapng.py     a .pcapng per run, each packet's comment naming its call
"""
