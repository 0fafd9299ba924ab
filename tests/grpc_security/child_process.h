// A binary of this repository run as a child process for the split-deployment tests: its
// stderr collected by a thread, waited on for a log line or for its exit code.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace channelstream::testing {

class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      dup2(fds[1], 2);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> args;
      for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(fds[1]);
    reader_ = std::thread([this, fd = fds[0]] {
      char buffer[4096];
      ssize_t n;
      while ((n = read(fd, buffer, sizeof buffer)) > 0) {
        std::lock_guard<std::mutex> lock(mu_);
        output_.append(buffer, static_cast<size_t>(n));
        changed_.notify_all();
      }
      close(fd);
      std::lock_guard<std::mutex> lock(mu_);
      eof_ = true;
      changed_.notify_all();
    });
  }
  ~ChildProcess() {
    Kill();
    if (reader_.joinable()) reader_.join();
  }

  // Waits until the output contains `needle`; returns the text after it up to the line's end.
  bool WaitFor(const std::string& needle, std::string* rest = nullptr, double seconds = 10) {
    std::unique_lock<std::mutex> lock(mu_);
    const bool found = changed_.wait_for(lock, std::chrono::duration<double>(seconds), [&] {
      return output_.find(needle) != std::string::npos || eof_;
    }) && output_.find(needle) != std::string::npos;
    if (found && rest != nullptr) {
      const size_t start = output_.find(needle) + needle.size();
      *rest = output_.substr(start, output_.find('\n', start) - start);
    }
    return found;
  }
  // The port in a banner such as "serving on http://127.0.0.1:" (0 when it never came).
  int PortAfter(const std::string& banner) {
    std::string rest;
    return WaitFor(banner, &rest) ? std::atoi(rest.c_str()) : 0;
  }
  // The exit code, or -1 when it did not exit in time (or died by a signal).
  int WaitExit(double seconds = 10) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (pid_ > 0 && std::chrono::steady_clock::now() < until) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }
  // The whole output once the child closed it (after its exit: the reader may still be behind).
  std::string FinalOutput(double seconds = 5) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return eof_; });
    return output_;
  }
  std::string output() {
    std::lock_guard<std::mutex> lock(mu_);
    return output_;
  }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    if (WaitExit(5) == -1 && pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::string output_;
  bool eof_ = false;
};

}  // namespace channelstream::testing
