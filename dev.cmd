@echo off
rem Windows twin of ./dev (Command Prompt or PowerShell): dev build, dev test, dev bench
rem Runs dev.py with the Python launcher (py -3), or python when the launcher is missing.
setlocal
where py >nul 2>nul
if %ERRORLEVEL%==0 (
    py -3 "%~dp0dev.py" %*
) else (
    python "%~dp0dev.py" %*
)
exit /b %ERRORLEVEL%
