# Installs the latest FSLogix release. Published as
# https://stimagingscripts.blob.core.windows.net/avd/Install-FSLogix.ps1 (read by the build with
# the template's identity); this checked-in copy gives the template its sha256Checksum.
$ErrorActionPreference = 'Stop'
$work = Join-Path $env:TEMP 'fslogix'
New-Item -ItemType Directory -Force -Path $work | Out-Null
Invoke-WebRequest -Uri 'https://aka.ms/fslogix_download' -OutFile (Join-Path $work 'fslogix.zip') -UseBasicParsing
Expand-Archive -Path (Join-Path $work 'fslogix.zip') -DestinationPath $work -Force
$setup = Get-ChildItem -Path $work -Recurse -Filter 'FSLogixAppsSetup.exe' |
    Where-Object FullName -like '*x64*' | Select-Object -First 1
$proc = Start-Process -FilePath $setup.FullName -ArgumentList '/install', '/quiet', '/norestart' -Wait -PassThru
if ($proc.ExitCode -notin 0, 3010) { throw "FSLogix setup failed with exit code $($proc.ExitCode)" }
Remove-Item -Path $work -Recurse -Force
