// private_postgres.cpp -- a private PostgreSQL cluster by pid (design in
// the header).
#include "runtime/sim/private_postgres.hpp"

#include "runtime/sim/process_state.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace authstore {

namespace {

// How long a server may take to accept connections after a start
// (recovery after a kill included) or to exit after a fast shutdown.
constexpr int ready_timeout_ms = 30000;
constexpr int stop_timeout_ms = 30000;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0
      && ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

// The uid/gid the server runs as: postgres when we are root.
bool server_identity(uid_t& uid, gid_t& gid, std::string& name) {
  if (geteuid() != 0) {
    uid = geteuid();
    gid = getegid();
    return true;
  }
  passwd* pw = getpwnam("postgres");
  if (!pw)
    return false;
  uid = pw->pw_uid;
  gid = pw->pw_gid;
  name = pw->pw_name;
  return true;
}

// Forks and execs argv as the server user, stdout and stderr appended to
// `log`; returns the child's pid (-1 on failure).
pid_t spawn(const std::vector<std::string>& argv, const std::string& cwd,
            const std::string& log) {
  uid_t uid;
  gid_t gid;
  std::string name;
  if (!server_identity(uid, gid, name))
    return -1;
  pid_t pid = fork();
  if (pid != 0)
    return pid;
  // Child: only async-signal-safe calls until exec. The log is opened as
  // the server user, so that pg_ctl (which appends as that user) can too.
  if (geteuid() == 0
      && (setgid(gid) != 0 || setgroups(1, &gid) != 0 || setuid(uid) != 0))
    _exit(126);
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
    ::close(fd);
  }
  int null = ::open("/dev/null", O_RDONLY);
  if (null >= 0)
    dup2(null, 0);
  if (chdir(cwd.c_str()) != 0)
    _exit(126);
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execv(args[0], args.data());
  _exit(127);
}

// Runs argv as the server user to completion; true on exit status 0.
bool run(const std::vector<std::string>& argv, const std::string& cwd,
         const std::string& log) {
  pid_t pid = spawn(argv, cwd, log);
  int status = 0;
  return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)
         && WEXITSTATUS(status) == 0;
}

bool chown_tree(const std::string& path) {
  if (geteuid() != 0)
    return true;
  passwd* pw = getpwnam("postgres");
  if (!pw)
    return false;
  std::string cmd = "chown -R " + std::to_string(pw->pw_uid) + ":"
                    + std::to_string(pw->pw_gid) + " '" + path + "'";
  return std::system(cmd.c_str()) == 0;
}

// The process's template cluster, made by initdb on first use and removed
// at exit.
struct template_cluster {
  std::string dir;
  bool ok = false;
  std::string error;

  explicit template_cluster(const std::string& bin_dir) {
    char buf[] = "/tmp/authstore-pgtemplate-XXXXXX";
    if (!mkdtemp(buf)) {
      error = "mkdtemp failed";
      return;
    }
    dir = buf;
    if (!chown_tree(dir)) {
      error = "chown to postgres failed (is the postgres user there?)";
      return;
    }
    ok = run({bin_dir + "/initdb", "-D", dir + "/data", "-U", "postgres", "-A",
              "trust", "-E", "UTF8", "--locale=C", "--no-sync"},
             dir, dir + "/initdb.log");
    if (!ok)
      error = "initdb failed: " + read_file(dir + "/initdb.log");
  }

  ~template_cluster() {
    if (!dir.empty())
      std::system(("rm -rf '" + dir + "'").c_str());
  }
};

// One per process, made with the first server's binaries.
template_cluster& the_template(const std::string& bin_dir) {
  static template_cluster t{bin_dir};
  return t;
}

// The parent pid of `pid` (-1 if gone), and its state letter.
pid_t parent_of(pid_t pid, char* state = nullptr) {
  pid_t parent = -1;
  char s = process_state(pid, &parent);
  if (state)
    *state = s;
  return s == 0 ? -1 : parent;
}

bool is_alive(pid_t pid) {
  char state = 0;
  return parent_of(pid, &state) >= 0 && state != 'Z' && state != 'X';
}

void sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

} // namespace

private_postgres::private_postgres(private_postgres_options options)
    : options_(std::move(options)) {
  // Orphaned backends and pg_ctl's postmaster become our children (see the
  // header), so that they can be reaped.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
}

private_postgres::~private_postgres() {
  if (postmaster_ > 0 && !stop())
    kill();
  if (!dir_.empty())
    std::system(("rm -rf '" + dir_ + "'").c_str());
}

bool private_postgres::start() {
  if (dir_.empty()) {
    if (::access((options_.bin_dir + "/initdb").c_str(), X_OK) != 0) {
      error_ = "no PostgreSQL binaries in " + options_.bin_dir
               + " (install postgresql-15: scripts/install-deps.sh)";
      return false;
    }
    auto& t = the_template(options_.bin_dir);
    if (!t.ok) {
      error_ = t.error;
      return false;
    }
    char buf[] = "/tmp/authstore-pg-XXXXXX";
    if (!mkdtemp(buf)) {
      error_ = "mkdtemp failed";
      return false;
    }
    dir_ = buf;
    port_ = free_port();
    std::string copy = "cp -a '" + t.dir + "/data' '" + dir_
                       + "/data' && mkdir '" + dir_ + "/sock'";
    if (std::system(copy.c_str()) != 0) {
      error_ = "copying the template cluster failed";
      return false;
    }
    const char* off = options_.fsync ? "on" : "off";
    std::ofstream conf(dir_ + "/data/postgresql.conf", std::ios::app);
    conf << "\n# authstore test harness\n"
         << "listen_addresses = '127.0.0.1'\n"
         << "port = " << port_ << "\n"
         << "unix_socket_directories = '" << dir_ << "/sock'\n"
         << "fsync = " << off << "\nfull_page_writes = " << off << "\n"
         << "synchronous_commit = on\n"
         << "max_connections = " << options_.max_connections << "\n"
         << "shared_buffers = 32MB\n"
         << "logging_collector = off\n";
    for (const auto& line : options_.settings)
      conf << line << "\n";
    conf.close();
    std::ofstream hba(dir_ + "/data/pg_hba.conf", std::ios::trunc);
    hba << "local all all trust\n"
        << "host all postgres 127.0.0.1/32 trust\n"
        << "host all all 127.0.0.1/32 scram-sha-256\n";
    hba.close();
    if (!chown_tree(dir_)) {
      error_ = "chown to postgres failed";
      return false;
    }
  }
  return launch() && wait_ready();
}

bool private_postgres::launch() {
  postmaster_ = spawn({options_.bin_dir + "/postgres", "-D", dir_ + "/data"},
                      dir_, dir_ + "/server.log");
  if (postmaster_ <= 0) {
    error_ = "fork failed";
    return false;
  }
  return true;
}

bool private_postgres::wait_ready() {
  auto conninfo = "host=127.0.0.1 port=" + std::to_string(port_)
                  + " user=postgres dbname=postgres connect_timeout=2";
  for (int waited = 0; waited < ready_timeout_ms; waited += 50) {
    if (PQping(conninfo.c_str()) == PQPING_OK)
      return true;
    if (!is_alive(postmaster_)) {
      waitpid(postmaster_, nullptr, WNOHANG);
      error_ = "postgres exited at start; log:\n" + log();
      postmaster_ = -1;
      return false;
    }
    sleep_ms(50);
  }
  error_ = "postgres did not accept connections in time; log:\n" + log();
  return false;
}

bool private_postgres::wait_gone(pid_t pid, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 10) {
    // Our child (directly, or adopted as subreaper): reap it.
    pid_t r = waitpid(pid, nullptr, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD && !is_alive(pid)))
      return true;
    sleep_ms(10);
  }
  return false;
}

std::vector<pid_t> private_postgres::children() const {
  std::vector<pid_t> out;
  if (postmaster_ <= 0)
    return out;
  DIR* d = opendir("/proc");
  if (!d)
    return out;
  while (dirent* e = readdir(d)) {
    pid_t pid = static_cast<pid_t>(std::atol(e->d_name));
    if (pid > 0 && parent_of(pid) == postmaster_)
      out.push_back(pid);
  }
  closedir(d);
  return out;
}

bool private_postgres::stop() {
  if (postmaster_ <= 0)
    return true;
  resume(); // a paused server cannot shut down
  ::kill(postmaster_, SIGINT);
  if (!wait_gone(postmaster_, stop_timeout_ms))
    return false;
  postmaster_ = -1;
  return true;
}

void private_postgres::kill() {
  if (postmaster_ <= 0)
    return;
  auto backends = children();
  ::kill(postmaster_, SIGKILL);
  for (pid_t p : backends)
    ::kill(p, SIGKILL);
  // A child forked between the scan and the kill: the postmaster is dead
  // (not yet reaped, so still their parent), look once more.
  for (pid_t p : children()) {
    ::kill(p, SIGKILL);
    backends.push_back(p);
  }
  wait_gone(postmaster_, 5000);
  for (pid_t p : backends)
    wait_gone(p, 5000); // adopted by us (subreaper) once the postmaster died
  postmaster_ = -1;
  clear_stale_files();
}

void private_postgres::clear_stale_files() {
  // postmaster.pid line 6: "<shmem key> <shmem id>" of the System V segment
  // PostgreSQL uses as its interlock; once nothing is attached it is only
  // a leak (the next server's postmaster.pid will not name it).
  std::istringstream pidfile(read_file(dir_ + "/data/postmaster.pid"));
  std::string line;
  for (int i = 1; std::getline(pidfile, line); ++i) {
    if (i != 6)
      continue;
    std::istringstream fields(line);
    long key = 0, id = -1;
    if (fields >> key >> id && id >= 0) {
      shmid_ds info{};
      if (shmctl(static_cast<int>(id), IPC_STAT, &info) == 0
          && info.shm_nattch == 0)
        shmctl(static_cast<int>(id), IPC_RMID, nullptr);
    }
  }
  auto sock = dir_ + "/sock/.s.PGSQL." + std::to_string(port_);
  std::remove((dir_ + "/data/postmaster.pid").c_str());
  std::remove((sock + ".lock").c_str());
  std::remove(sock.c_str());
}

void private_postgres::pause() {
  if (postmaster_ <= 0)
    return;
  stop_and_wait(postmaster_);
  for (pid_t p : children())
    stop_and_wait(p);
}

void private_postgres::resume() {
  if (postmaster_ <= 0)
    return;
  for (pid_t p : children())
    ::kill(p, SIGCONT);
  ::kill(postmaster_, SIGCONT);
}

bool private_postgres::restart() {
  if (!stop())
    kill();
  return launch() && wait_ready();
}

bool private_postgres::restart_immediate() {
  pid_t old = postmaster_;
  bool ok
    = run({options_.bin_dir + "/pg_ctl", "restart", "-m", "immediate", "-D",
           dir_ + "/data", "-w", "-t", "30", "-l", dir_ + "/server.log"},
          dir_, dir_ + "/pg_ctl.log");
  if (old > 0)
    wait_gone(old, 5000);
  postmaster_ = -1;
  std::istringstream pidfile(read_file(dir_ + "/data/postmaster.pid"));
  long pid = 0;
  if (ok && pidfile >> pid && pid > 0)
    postmaster_ = static_cast<pid_t>(pid);
  if (!ok || postmaster_ <= 0) {
    error_ = "pg_ctl restart failed: " + read_file(dir_ + "/pg_ctl.log");
    return false;
  }
  return wait_ready();
}

std::string private_postgres::uri(const std::string& user,
                                  const std::string& password,
                                  const std::string& db) const {
  std::string auth = user;
  if (!password.empty())
    auth += ":" + password;
  return "postgresql://" + auth + "@127.0.0.1:" + std::to_string(port_) + "/"
         + db;
}

bool private_postgres::exec(const std::string& sql, std::string* value) {
  PGconn* c = PQconnectdb(("host=127.0.0.1 port=" + std::to_string(port_)
                           + " user=postgres dbname=postgres connect_timeout=5")
                            .c_str());
  bool ok = PQstatus(c) == CONNECTION_OK;
  if (!ok) {
    error_ = PQerrorMessage(c);
    PQfinish(c);
    return false;
  }
  PQsetNoticeProcessor(
    c, [](void*, const char*) {}, nullptr);
  PGresult* r = PQexec(c, sql.c_str());
  auto status = PQresultStatus(r);
  ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  if (!ok)
    error_ = PQresultErrorMessage(r);
  else if (value)
    *value = PQntuples(r) > 0 && PQnfields(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  PQfinish(c);
  return ok;
}

bool private_postgres::is_running() const {
  return postmaster_ > 0 && is_alive(postmaster_);
}

std::string private_postgres::log() const {
  return read_file(dir_ + "/server.log");
}

} // namespace authstore
