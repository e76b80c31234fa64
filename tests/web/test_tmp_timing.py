import time, pytest
from tests.web import conftest as c
@pytest.mark.parametrize("n", range(3))
def test_x(database_url, templates, book, tmp_path, n):
    from houqin.db import make_engine
    from sqlalchemy.orm import Session
    t0=time.perf_counter()
    e=make_engine(database_url)
    with Session(e) as s, s.begin():
        c.seed(s, templates, book)
    t1=time.perf_counter()
    import socket, threading, uvicorn
    from houqin.web.app import make_app
    from houqin.settings import Settings
    sock=socket.socket(); sock.bind(("127.0.0.1",0))
    app=make_app(Settings(database_url=database_url), engine=e)
    server=uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11"))
    th=threading.Thread(target=server.run, kwargs={"sockets":[sock]}, daemon=True); th.start()
    while not server.started: time.sleep(0.005)
    t2=time.perf_counter()
    server.should_exit=True; th.join(); sock.close(); e.dispose()
    t3=time.perf_counter()
    print(f"\nseed {t1-t0:.3f} start {t2-t1:.3f} stop {t3-t2:.3f}")
