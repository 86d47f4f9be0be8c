$ErrorActionPreference = 'Stop'
# Teams on AVD: tell Teams it runs in a WVD/AVD environment so media optimization is used.
New-Item -Path 'HKLM:\SOFTWARE\Microsoft\Teams' -Force | Out-Null
Set-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Teams' -Name 'IsWVDEnvironment' -Value 1 -Type DWord
