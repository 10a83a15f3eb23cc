Attribute VB_Name = "RibbonMinsheng"
' minsheng ribbon: every button of the add-in's tab calls OnButton with its tag; Python does the work.
' Adding a button is one line of customUI14.xml and one function in minsheng/addin.py.
' The VBA project keeps code page 1252, which has no Chinese: the build turns every string literal
' holding Chinese into U("...") of its character codes (minsheng/xlam.py), so write them plainly here.
Option Explicit

Sub OnButton(control As IRibbonControl)
    If Not ReadyToRun() Then Exit Sub
    ' The module name is written out: deriving it from the file name breaks when the file is renamed.
    RunPython "import minsheng.addin as a; a.dispatch('" & control.Tag & "')"
End Sub

Private Function ReadyToRun() As Boolean
    ' What would otherwise end in VBA's or xlwings' own English errors (error 91 without a workbook,
    ' "Could not find Interpreter!"), said in Chinese with what to do.
    Dim inProtectedView As Boolean
    Dim python As String
    On Error Resume Next
    inProtectedView = Not (Application.ActiveProtectedViewWindow Is Nothing)
    On Error GoTo 0
    If inProtectedView Then
        MsgBox "这个工作簿是在“受保护的视图”中打开的。请先点击窗口上方黄色提示条中的“启用编辑”，再点按钮。", _
               vbExclamation, "民生工程"
        Exit Function
    End If
    If ActiveWorkbook Is Nothing Then
        MsgBox "请先在 Excel 中打开工作文件夹里的“任务台账.xlsx”（或汇总表），再点按钮。", vbExclamation, "民生工程"
        Exit Function
    End If
#If Not Mac Then
    python = GetConfig("INTERPRETER_WIN", "")
    If python = "" Or Not FileExists(python) Then
        MsgBox "找不到 Python：" & python & vbCrLf & vbCrLf & _
               "请打开“命令提示符”，运行 minsheng addin install，然后关闭并重新打开 Excel。", vbCritical, "民生工程"
        Exit Function
    End If
#End If
    ReadyToRun = True
End Function

Private Function U(ByVal codes As String) As String
    ' Text from the hexadecimal character codes the build wrote for a Chinese string literal.
    Dim code As Variant
    For Each code In Split(codes, " ")
        U = U & ChrW(CLng("&H" & code))
    Next code
End Function
